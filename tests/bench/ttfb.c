/* ttfb: time to first byte of a server's answer, for the RTT-count benchmark.
 *
 *   ttfb server ADDR PORT LIFE_S   one client at a time: read a request, answer
 *                                  "HTTP/1.0 200 OK ... you are <peer ip>", close;
 *                                  logs "PEER <ip> <port>" per connection on stdout;
 *                                  exits by itself after LIFE_S seconds
 *   ttfb client ADDR PORT N GAP_MS N sequential connections (GAP_MS apart): send
 *                                  "GET / HTTP/1.0", wait for the first byte of the
 *                                  answer; prints "ttfb_ms=X" for each and the body
 *                                  of the first as "reply=..."
 *   ttfb rtt ADDR PORT N            N TCP connects (50 ms apart) to a port where
 *                                  nothing listens: the RST comes back after one
 *                                  round trip; prints "rtt_ms=X" for each (the RTT
 *                                  where ping is not installed)
 *
 * The time runs from just before connect() to the first byte read, so whatever a
 * preloaded library does inside connect (a proxy handshake) is counted, and the
 * request's own round trip is too. The server answers only once it has the request
 * (an HTTP server does), so curl can be measured against the same server. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, &a->sin_addr) == 1) {
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        *len = sizeof(*a);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        *len = sizeof(*a6);
        return 0;
    }
    fprintf(stderr, "ttfb: bad address %s\n", addr);
    return -1;
}

static int server(const char *addr, int port, int life)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1, s;

    if (parse(addr, port, &ss, &len) < 0)
        return 2;
    alarm(life); /* never outlives the benchmark */
    s = socket(ss.ss_family, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&ss, len) < 0 || listen(s, 128) < 0) {
        perror("ttfb server");
        return 1;
    }
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t pl = sizeof(peer);
        struct timeval tv = {5, 0};
        char ip[INET6_ADDRSTRLEN] = "?", req[2048], body[128], out[512];
        int c = accept(s, (struct sockaddr *)&peer, &pl), port_peer = 0, n;

        if (c < 0)
            continue;
        if (peer.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, ip, sizeof(ip));
            port_peer = ntohs(((struct sockaddr_in *)&peer)->sin_port);
        } else if (peer.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, ip, sizeof(ip));
            port_peer = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
        }
        printf("PEER %s %d\n", ip, port_peer);
        fflush(stdout);
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (recv(c, req, sizeof(req), 0) > 0) {
            snprintf(body, sizeof(body), "you are %s\n", ip);
            n = snprintf(out, sizeof(out),
                         "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         strlen(body), body);
            if (send(c, out, n, MSG_NOSIGNAL) < 0)
                perror("ttfb server send");
        }
        close(c);
    }
}

static int client(const char *addr, int port, int n, int gap_ms)
{
    static const char req[] = "GET / HTTP/1.0\r\nHost: far\r\n\r\n";
    struct sockaddr_storage ss;
    socklen_t len;

    if (parse(addr, port, &ss, &len) < 0)
        return 2;
    for (int i = 0; i < n; i++) {
        char buf[1024];
        size_t have = 0;
        double t0, t1;
        ssize_t r;
        int s = socket(ss.ss_family, SOCK_STREAM, 0);

        if (i && gap_ms)
            usleep(gap_ms * 1000);
        t0 = now_ms();
        if (connect(s, (struct sockaddr *)&ss, len) < 0) {
            printf("error=connect %s\n", strerror(errno));
            return 1;
        }
        if (send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0) {
            printf("error=send %s\n", strerror(errno));
            return 1;
        }
        r = recv(s, buf, sizeof(buf) - 1, 0);
        t1 = now_ms();
        if (r <= 0) {
            printf("error=recv %s\n", r ? strerror(errno) : "EOF");
            return 1;
        }
        have = r;
        while (have < sizeof(buf) - 1 && (r = recv(s, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
            have += r;
        buf[have] = '\0';
        printf("ttfb_ms=%.3f\n", t1 - t0);
        if (i == 0) {
            char *body = strstr(buf, "\r\n\r\n"), *nl;
            body = body ? body + 4 : buf;
            if ((nl = strchr(body, '\n')))
                *nl = '\0';
            printf("reply=%s\n", body);
        }
        close(s);
    }
    return 0;
}

static int rtt(const char *addr, int port, int n)
{
    struct sockaddr_storage ss;
    socklen_t len;

    if (parse(addr, port, &ss, &len) < 0)
        return 2;
    for (int i = 0; i < n; i++) {
        int s = socket(ss.ss_family, SOCK_STREAM, 0), r;
        double t0 = now_ms();

        r = connect(s, (struct sockaddr *)&ss, len);
        if (r == 0 || errno == ECONNREFUSED)
            printf("rtt_ms=%.3f\n", now_ms() - t0);
        close(s);
        usleep(50000);
    }
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 5 && !strcmp(argv[1], "server"))
        return server(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 6 && !strcmp(argv[1], "client"))
        return client(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc == 5 && !strcmp(argv[1], "rtt"))
        return rtt(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: ttfb server ADDR PORT LIFE_S | client ADDR PORT N GAP_MS |"
                    " rtt ADDR PORT N\n");
    return 2;
}
