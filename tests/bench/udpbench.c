/* udpbench: datagram round trips per second, one small datagram at a time.
 *
 *   udpbench server ADDR PORT SECONDS          echo every datagram back, for SECONDS;
 *                                              prints "peer IP" each time the source
 *                                              address changes (who really sent)
 *   udpbench plain DST DPORT N [SIZE [MARK BIND]]
 *                                              N round trips with sendto/recvfrom to
 *                                              DST (IPv4): bare, or under dialshim;
 *                                              with MARK and BIND the program sets
 *                                              SO_MARK and binds to BIND itself first
 *   udpbench socks5 PROXY PPORT DST DPORT N [SIZE]
 *                                              the program speaks SOCKS5 UDP ASSOCIATE
 *                                              itself (RFC 1928 section 7: a TCP control
 *                                              connection, each datagram wrapped in the
 *                                              10-byte IPv4 header, each reply's header
 *                                              checked and stripped): the native baseline
 *
 * A round trip: one datagram of SIZE bytes (default 32) out, its echo back, checked
 * byte for byte. A reply that does not come within 1 s counts as lost and the next
 * round trip starts. Prints "rtt_per_sec=X", "lost=N", "bad=N" and
 * "cpu_us_per_rtt=Y" (user + system time of this process per round trip, the loop
 * alone). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 10 /* RSV RSV FRAG ATYP=1 ADDR(4) PORT(2) */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int addr(const char *ip, const char *port, struct sockaddr_in *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(port));
    return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

static int udp_socket(void)
{
    struct timeval tv = {.tv_sec = 1};
    int s = socket(AF_INET, SOCK_DGRAM, 0);

    if (s >= 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return s;
}

static int server(const char *ip, const char *port, int seconds)
{
    struct sockaddr_in sa, from, last = {0};
    unsigned char buf[65536];
    double end = now() + seconds;
    int s = udp_socket();

    if (s < 0 || addr(ip, port, &sa) < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("udpbench server");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    while (now() < end) {
        socklen_t fl = sizeof(from);
        ssize_t r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (r < 0)
            continue; /* the 1 s timeout: look at the clock */
        if (from.sin_addr.s_addr != last.sin_addr.s_addr) {
            printf("peer %s\n", inet_ntoa(from.sin_addr));
            fflush(stdout);
            last = from;
        }
        sendto(s, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
    }
    return 0;
}

/* What a run counts. */
struct tally {
    long lost, bad;
};

/* CPU time (user + system) this process has used, in microseconds. */
static double cpu_us(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

/* N round trips took T seconds and CPU microseconds of this process (the loop
 * alone: process start and a preloaded library's setup are not counted). */
static void report(long n, double t, double cpu, const struct tally *k)
{
    printf("rtt_per_sec=%.0f\nlost=%ld\nbad=%ld\ncpu_us_per_rtt=%.3f\n", n / t, k->lost, k->bad,
           cpu / n);
}

/* The payload of round trip I: its number, then a fixed pattern. */
static void fill(unsigned char *p, size_t size, long i)
{
    for (size_t k = 0; k < size; k++)
        p[k] = (unsigned char)(k < sizeof(i) ? (size_t)(i >> (8 * k)) : k);
}

/* What a direct dialer with routing_mark and inet4_bind_address does to a socket. */
static int own_options(int s, const char *mark, const char *bind_ip)
{
    struct sockaddr_in b;
    int m = (int)strtol(mark, NULL, 0);

    if (addr(bind_ip, "0", &b) < 0 || setsockopt(s, SOL_SOCKET, SO_MARK, &m, sizeof(m)) < 0 ||
        bind(s, (struct sockaddr *)&b, sizeof(b)) < 0) {
        perror("udpbench plain: options");
        return -1;
    }
    return 0;
}

static int plain(const char *ip, const char *port, long n, size_t size, char **opts)
{
    struct sockaddr_in dst;
    unsigned char out[2048], in[2048];
    struct tally k = {0, 0};
    int s = udp_socket();
    double t0, c0;

    if (s < 0 || addr(ip, port, &dst) < 0 || size > sizeof(out)) {
        fprintf(stderr, "udpbench plain: bad arguments\n");
        return 1;
    }
    if (opts && own_options(s, opts[0], opts[1]) < 0)
        return 1;
    c0 = cpu_us();
    t0 = now();
    for (long i = 0; i < n; i++) {
        fill(out, size, i);
        if (sendto(s, out, size, 0, (struct sockaddr *)&dst, sizeof(dst)) != (ssize_t)size) {
            perror("udpbench plain: sendto");
            return 1;
        }
        ssize_t r = recvfrom(s, in, sizeof(in), 0, NULL, NULL);
        if (r < 0)
            k.lost++;
        else if ((size_t)r != size || memcmp(in, out, size))
            k.bad++;
    }
    report(n, now() - t0, cpu_us() - c0, &k);
    return 0;
}

/* The control connection and the relay: RFC 1928, no authentication. The client
 * names the address its datagrams come from (0.0.0.0 and its port), as dialshim
 * does. Returns the control socket, or -1. */
static int associate(const struct sockaddr_in *proxy, int u, struct sockaddr_in *relay)
{
    unsigned char b[32] = {5, 1, 0};
    struct sockaddr_in local;
    socklen_t len = sizeof(local);
    int c = socket(AF_INET, SOCK_STREAM, 0);

    memset(&local, 0, sizeof(local));
    local.sin_family = AF_INET;
    if (c < 0 || bind(u, (struct sockaddr *)&local, sizeof(local)) < 0 ||
        getsockname(u, (struct sockaddr *)&local, &len) < 0 ||
        connect(c, (const struct sockaddr *)proxy, sizeof(*proxy)) < 0 || send(c, b, 3, 0) != 3 ||
        recv(c, b, 2, MSG_WAITALL) != 2 || b[0] != 5 || b[1] != 0)
        return -1;
    memcpy(b, "\x05\x03\x00\x01\x00\x00\x00\x00", 8);
    memcpy(b + 8, &local.sin_port, 2);
    if (send(c, b, 10, 0) != 10 || recv(c, b, 10, MSG_WAITALL) != 10 || b[1] != 0 || b[3] != 1)
        return -1;
    memset(relay, 0, sizeof(*relay));
    relay->sin_family = AF_INET;
    memcpy(&relay->sin_addr, b + 4, 4);
    memcpy(&relay->sin_port, b + 8, 2);
    if (relay->sin_addr.s_addr == 0) /* "my own address" */
        relay->sin_addr = proxy->sin_addr;
    return c;
}

static int socks5(const char *pip, const char *pport, const char *ip, const char *port, long n,
                  size_t size)
{
    struct sockaddr_in proxy, dst, relay;
    unsigned char out[2048], in[2048];
    struct tally k = {0, 0};
    int u = udp_socket(), c;
    double t0, c0;

    if (u < 0 || addr(pip, pport, &proxy) < 0 || addr(ip, port, &dst) < 0 ||
        size + HDR > sizeof(out)) {
        fprintf(stderr, "udpbench socks5: bad arguments\n");
        return 1;
    }
    if ((c = associate(&proxy, u, &relay)) < 0) {
        fprintf(stderr, "udpbench socks5: UDP ASSOCIATE failed\n");
        return 1;
    }
    c0 = cpu_us();
    t0 = now();
    for (long i = 0; i < n; i++) {
        memcpy(out, "\x00\x00\x00\x01", 4);
        memcpy(out + 4, &dst.sin_addr, 4);
        memcpy(out + 8, &dst.sin_port, 2);
        fill(out + HDR, size, i);
        if (sendto(u, out, size + HDR, 0, (struct sockaddr *)&relay, sizeof(relay)) !=
            (ssize_t)(size + HDR)) {
            perror("udpbench socks5: sendto");
            return 1;
        }
        ssize_t r = recvfrom(u, in, sizeof(in), 0, NULL, NULL);
        if (r < 0)
            k.lost++;
        else if ((size_t)r != size + HDR || in[2] != 0 || in[3] != 1 ||
                 memcmp(in + 4, out + 4, 6) || memcmp(in + HDR, out + HDR, size))
            k.bad++;
    }
    report(n, now() - t0, cpu_us() - c0, &k);
    close(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "server"))
        return server(argv[2], argv[3], atoi(argv[4]));
    if ((argc == 5 || argc == 6 || argc == 8) && !strcmp(argv[1], "plain"))
        return plain(argv[2], argv[3], atol(argv[4]), argc >= 6 ? (size_t)atol(argv[5]) : 32,
                     argc == 8 ? argv + 6 : NULL);
    if ((argc == 7 || argc == 8) && !strcmp(argv[1], "socks5"))
        return socks5(argv[2], argv[3], argv[4], argv[5], atol(argv[6]),
                      argc == 8 ? (size_t)atol(argv[7]) : 32);
    fprintf(stderr,
            "usage: udpbench server ADDR PORT SECONDS | plain DST DPORT N [SIZE [MARK BIND]] | "
            "socks5 PROXY PPORT DST DPORT N [SIZE]\n");
    return 2;
}
