/* memprobe: a small long-lived C program for the memory benchmark (mem.sh).
 *
 *   memprobe PORT NAME...
 *
 * Looks up every NAME (getaddrinfo, AF_UNSPEC, then freeaddrinfo), connects to
 * 127.0.0.1:PORT twice by address and once to each NAME:PORT (its first address),
 * closes each connection, then prints "pid=N ok=N fail=N" and "ready" and waits
 * (at most 60 s) to be measured and killed. It does nothing else, so what it holds
 * in memory is the C library's, the loader's, and under LD_PRELOAD the shim's. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int dial(const struct sockaddr *sa, socklen_t len)
{
    int s = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = s < 0 ? -1 : connect(s, sa, len);

    if (s >= 0)
        close(s);
    return rc;
}

int main(int argc, char **argv)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    struct sockaddr_in lo = {.sin_family = AF_INET};
    int ok = 0, fail = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: memprobe PORT NAME...\n");
        return 2;
    }
    lo.sin_port = htons((uint16_t)atoi(argv[1]));
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 2; i++)
        dial((struct sockaddr *)&lo, sizeof(lo)) == 0 ? ok++ : fail++;
    for (int i = 2; i < argc; i++) {
        if (getaddrinfo(argv[i], argv[1], &hints, &res) != 0) {
            fail++;
            continue;
        }
        dial(res->ai_addr, res->ai_addrlen) == 0 ? ok++ : fail++;
        freeaddrinfo(res);
    }
    printf("pid=%d ok=%d fail=%d\nready\n", (int)getpid(), ok, fail);
    fflush(stdout);
    alarm(60); /* never outlive the benchmark for long */
    for (;;)
        pause();
}
