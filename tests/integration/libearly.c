/* libearly.so: a library preloaded after the shim (LD_PRELOAD="SHIM libearly.so"),
 * hence initialised before it, whose constructor starts a thread that connects
 * at once to EARLY_TO (IPv4 ADDR:PORT). That hooked connect comes before, during
 * or after the shim's own constructor (which reads the file), and gets the file's
 * policy all the same. At exit the thread is joined and its outcome printed on
 * stdout: `early_reply=LINE` (the server's first line) or `early_errno=NAME`. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static pthread_t early;
static int started;
static char outcome[256];

static void *dial(void *arg)
{
    const char *to = arg, *colon = strrchr(to, ':');
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct timeval tv = {.tv_sec = 5};
    char addr[64], buf[200];
    ssize_t n;
    int fd;

    if (!colon || (size_t)(colon - to) >= sizeof(addr))
        return NULL;
    memcpy(addr, to, (size_t)(colon - to));
    addr[colon - to] = '\0';
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
        return NULL;
    sin.sin_port = htons((unsigned short)atoi(colon + 1));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        snprintf(outcome, sizeof(outcome), "early_errno=%s", strerrorname_np(errno));
    } else if ((n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        snprintf(outcome, sizeof(outcome), "early_reply=%s", buf);
    } else {
        snprintf(outcome, sizeof(outcome), "early_errno=%s",
                 n < 0 ? strerrorname_np(errno) : "EOF");
    }
    close(fd);
    return NULL;
}

__attribute__((constructor)) static void start(void)
{
    char *to = getenv("EARLY_TO");

    started = to && pthread_create(&early, NULL, dial, to) == 0;
}

__attribute__((destructor)) static void report(void)
{
    if (!started)
        return;
    pthread_join(early, NULL);
    printf("%s\n", outcome[0] ? outcome : "early_errno=none");
    fflush(stdout);
}
