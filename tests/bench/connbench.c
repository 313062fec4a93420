/* connbench: connections per second to a local TCP server.
 *
 *   connbench server PORT              accept and close, forever (killed by the caller)
 *   connbench client ADDR PORT N [own] N connects; "own": set SO_MARK 0x64 and bind to
 *                                      ADDR itself, as a program would without the shim
 *
 * Prints "conns_per_sec=X". Each client socket closes with SO_LINGER 0 (RST), so
 * no TIME_WAIT piles up and runs stay comparable. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int server(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4096) < 0) {
        perror("server");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c >= 0)
            close(c);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int client(const char *addr, int port, long n, int own)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}, src = a;
    struct linger lg = {1, 0};
    double t0;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    inet_pton(AF_INET, addr, &src.sin_addr);
    src.sin_port = 0;
    t0 = now();
    for (long i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1, mark = 0x64;
        if (own) {
            setsockopt(s, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
            setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
            bind(s, (struct sockaddr *)&src, sizeof(src));
        }
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
            fprintf(stderr, "connect %ld: %s\n", i, strerror(errno));
            return 1;
        }
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(s);
    }
    printf("conns_per_sec=%.0f\n", n / (now() - t0));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "server"))
        return server(atoi(argv[2]));
    if (argc >= 5 && !strcmp(argv[1], "client"))
        return client(argv[2], atoi(argv[3]), atol(argv[4]), argc > 5 && !strcmp(argv[5], "own"));
    fprintf(stderr, "usage: connbench server PORT | client ADDR PORT N [own]\n");
    return 2;
}
