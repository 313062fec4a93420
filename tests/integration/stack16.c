/* stack16 tcp|udp HOST PORT: a name lookup and one exchange, all in a thread whose
 * stack is PTHREAD_STACK_MIN (16 KiB), the smallest a program may ask for.
 *
 * getaddrinfo(HOST) (a literal or a name), then for tcp a blocking connect to the
 * first address, "hello\n" and the server's first line; for udp one datagram with
 * sendto and the reply. Prints `reply=<line>` or `error=<what>`; a stack overflow
 * kills the process with SIGSEGV (the guard page). Exit status: 0 ok, 1 usage,
 * 2 lookup failed, 3 connect/send failed, 4 no reply. Reads wait at most 5 s.
 *
 * With STACK16_MEASURE=1 in the environment the thread runs instead on a painted
 * 256 KiB stack, and `stack_used=N` says how many bytes of it the call touched:
 * with and without the shim, the difference is what the shim adds. */
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *mode, *host, *port;
static char line[256];
static int status;

static int fail(int st, const char *what, int err)
{
    snprintf(line, sizeof(line), "error=%s %s", what, err ? strerrorname_np(err) : "");
    return st;
}

static int exchange(void)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = 0}, *res;
    struct timeval tv = {5, 0};
    int udp = !strcmp(mode, "udp"), fd, rc;
    ssize_t n;

    hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        snprintf(line, sizeof(line), "error=getaddrinfo %s", gai_strerror(rc));
        return 2;
    }
    fd = socket(res->ai_family, res->ai_socktype, 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (udp) {
        if (sendto(fd, "hello\n", 6, 0, res->ai_addr, res->ai_addrlen) < 0)
            return fail(3, "sendto", errno);
    } else {
        if (connect(fd, res->ai_addr, res->ai_addrlen) < 0)
            return fail(3, "connect", errno);
        if (write(fd, "hello\n", 6) != 6)
            return fail(3, "write", errno);
    }
    freeaddrinfo(res);
    n = recv(fd, line + 6, sizeof(line) - 7, 0);
    if (n <= 0)
        return fail(4, "recv", n < 0 ? errno : 0);
    memcpy(line, "reply=", 6);
    line[6 + n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    close(fd);
    return 0;
}

static void *run(void *arg)
{
    (void)arg;
    status = exchange();
    return NULL;
}

#define PAINTED (256 * 1024)

/* The bytes of the painted stack STACK that the thread wrote (it grows down). */
static size_t touched(const unsigned char *stack)
{
    size_t i = 0;

    while (i < PAINTED && stack[i] == 0xa5)
        i++;
    return PAINTED - i;
}

int main(int argc, char **argv)
{
    pthread_attr_t attr;
    pthread_t t;
    unsigned char *painted = NULL;

    if (argc != 4 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp"))) {
        fprintf(stderr, "usage: stack16 tcp|udp HOST PORT\n");
        return 1;
    }
    mode = argv[1], host = argv[2], port = argv[3];
    pthread_attr_init(&attr);
    if (getenv("STACK16_MEASURE") && (painted = aligned_alloc(4096, PAINTED))) {
        memset(painted, 0xa5, PAINTED);
        pthread_attr_setstack(&attr, painted, PAINTED);
    } else {
        pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
    }
    if (pthread_create(&t, &attr, run, NULL) != 0) {
        fprintf(stderr, "stack16: no thread\n");
        return 1;
    }
    pthread_join(t, NULL);
    printf("%s\n", line);
    if (painted)
        printf("stack_used=%zu\n", touched(painted));
    return status;
}
