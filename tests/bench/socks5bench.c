/* socks5bench: connections per second through a SOCKS5 proxy, on connbench's loop.
 *
 *   socks5bench server ADDR PORT                 accept and close, forever (killed
 *                                                by the caller)
 *   socks5bench plain DST DPORT N                N connects to DST (IPv4): run under
 *                                                proxychains or dialshim, which make
 *                                                the SOCKS5 handshake inside connect
 *   socks5bench socks5 PROXY PPORT DST DPORT N [USER PASS]
 *                                                the program speaks SOCKS5 itself
 *                                                (RFC 1928 lockstep, RFC 1929 with a
 *                                                user): the native baseline
 *
 * Each connection: socket, connect, (handshake), close with SO_LINGER 0 (RST) as
 * connbench does. Prints "conns_per_sec=X" and "cpu_us_per_conn=Y", the CPU time
 * (user + system) this process spent per connection: the client's own cost, which
 * the proxy's scheduling noise does not blur. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_n(int s, unsigned char *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        ssize_t r = recv(s, buf + have, n - have, 0);
        if (r <= 0)
            return -1;
        have += r;
    }
    return 0;
}

static int write_n(int s, const unsigned char *buf, size_t n)
{
    return send(s, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* One handshake on a connected socket; 0 or -1 with a reason. */
static int handshake(int s, const struct sockaddr_in *dst, const char *user, const char *pass,
                     const char **why)
{
    unsigned char b[600];
    size_t n;

    b[0] = 5;
    b[1] = 1;
    b[2] = user ? 2 : 0;
    if (write_n(s, b, 3) || read_n(s, b, 2)) {
        *why = "greeting";
        return -1;
    }
    if (b[0] != 5 || b[1] != (user ? 2 : 0)) {
        *why = "method refused";
        return -1;
    }
    if (user) {
        size_t ul = strlen(user), pl = strlen(pass);
        b[0] = 1;
        b[1] = (unsigned char)ul;
        memcpy(b + 2, user, ul);
        b[2 + ul] = (unsigned char)pl;
        memcpy(b + 3 + ul, pass, pl);
        if (write_n(s, b, 3 + ul + pl) || read_n(s, b, 2) || b[1] != 0) {
            *why = "authentication";
            return -1;
        }
    }
    b[0] = 5;
    b[1] = 1; /* CONNECT */
    b[2] = 0;
    b[3] = 1; /* IPv4 */
    memcpy(b + 4, &dst->sin_addr, 4);
    memcpy(b + 8, &dst->sin_port, 2);
    if (write_n(s, b, 10) || read_n(s, b, 4) || b[1] != 0) {
        *why = "CONNECT";
        return -1;
    }
    /* the bound address: IPv4 4, IPv6 16, name 1+len; then the port */
    n = b[3] == 1 ? 4 : b[3] == 4 ? 16 : 0;
    if (b[3] == 3) {
        if (read_n(s, b, 1)) {
            *why = "reply";
            return -1;
        }
        n = b[0];
    }
    if (read_n(s, b, n + 2)) {
        *why = "reply";
        return -1;
    }
    return 0;
}

static int server(const char *addr, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
        return 2;
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

int main(int argc, char **argv)
{
    struct sockaddr_in proxy = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
    struct linger lg = {1, 0};
    const char *user = NULL, *pass = NULL, *why = "";
    int plain;
    long n;
    double t0;

    if (argc == 4 && !strcmp(argv[1], "server"))
        return server(argv[2], atoi(argv[3]));
    plain = argc == 5 && !strcmp(argv[1], "plain");
    if (!plain && !((argc == 7 || argc == 9) && !strcmp(argv[1], "socks5"))) {
        fprintf(stderr, "usage: socks5bench server ADDR PORT | plain DST DPORT N |"
                        " socks5 PROXY PPORT DST DPORT N [USER PASS]\n");
        return 2;
    }
    if (plain) {
        argv += 1; /* DST DPORT N at argv[1..3] -> shift to the socks5 layout */
        if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
            return 2;
        dst.sin_port = htons(atoi(argv[2]));
        n = atol(argv[3]);
        proxy = dst;
    } else {
        argv += 1;
        if (inet_pton(AF_INET, argv[1], &proxy.sin_addr) != 1 ||
            inet_pton(AF_INET, argv[3], &dst.sin_addr) != 1) {
            fprintf(stderr, "socks5bench: IPv4 addresses only\n");
            return 2;
        }
        proxy.sin_port = htons(atoi(argv[2]));
        dst.sin_port = htons(atoi(argv[4]));
        n = atol(argv[5]);
        if (argc == 9) {
            user = argv[6];
            pass = argv[7];
            if (strlen(user) > 255 || strlen(pass) > 255)
                return 2;
        }
    }
    t0 = now();
    for (long i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&proxy, sizeof(proxy)) < 0) {
            fprintf(stderr, "connect %ld: %s\n", i, strerror(errno));
            return 1;
        }
        if (!plain && handshake(s, &dst, user, pass, &why) < 0) {
            fprintf(stderr, "handshake %ld: %s failed\n", i, why);
            return 1;
        }
        setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(s);
    }
    {
        double t = now() - t0;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("conns_per_sec=%.0f\ncpu_us_per_conn=%.2f\n", n / t,
               (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 / n +
                   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / (double)n);
    }
    return 0;
}
