/* resolvebench: getaddrinfo latency, and time to connect to a name.
 *
 *   resolvebench fresh SUFFIX N     N lookups of names never asked before
 *                                   ("<i>-<pid>-<time>.SUFFIX"), AF_UNSPEC, SOCK_STREAM;
 *                                   prints "median_us=" and "mean_us=" per lookup
 *   resolvebench same NAME N        one lookup of NAME (not counted), then N more:
 *                                   "mean_us=" per lookup (a cache hit, where there is
 *                                   a cache)
 *   resolvebench connect NAME PORT [BYTES]
 *                                   getaddrinfo(NAME) + connect to the first address:
 *                                   prints "gai_ms=", "connect_ms=", "total_ms="
 *                                   (getaddrinfo start to connected), "family=",
 *                                   "sndbuf=" (SO_SNDBUF once connected); then either
 *                                   "GET /" and "reply=" (the answer's body), or with
 *                                   BYTES: uploads that many bytes to a sink, and
 *                                   "upload_ms=" (first byte sent to the sink's answer)
 *   resolvebench sink ADDR PORT LIFE_S
 *                                   one client at a time: read to EOF, answer
 *                                   "got N\n"; exits by itself after LIFE_S seconds
 *
 * Every result is freed with freeaddrinfo, as programs do. Exit status 1 when a
 * lookup or the connection fails (with "error=..."). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int lookup(const char *name, const char *port, struct addrinfo **res)
{
    struct addrinfo hints;
    int r;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(name, port, &hints, res);
    if (r) {
        printf("error=getaddrinfo %s: %s\n", name, gai_strerror(r));
        return -1;
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int fresh(const char *suffix, int n)
{
    double *t = calloc(n, sizeof(*t)), sum = 0;
    long stamp = (long)time(NULL);

    if (!t)
        return 1;
    for (int i = 0; i < n; i++) {
        char name[256];
        struct addrinfo *res;
        double t0;

        snprintf(name, sizeof(name), "n%d-%d-%ld.%s", i, (int)getpid(), stamp, suffix);
        t0 = now_us();
        if (lookup(name, "80", &res) < 0)
            return 1;
        t[i] = now_us() - t0;
        freeaddrinfo(res);
        sum += t[i];
    }
    qsort(t, n, sizeof(*t), cmp);
    printf("median_us=%.2f\nmean_us=%.2f\n", n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2,
           sum / n);
    free(t);
    return 0;
}

static int same(const char *name, int n)
{
    struct addrinfo *res;
    double t0;

    if (lookup(name, "80", &res) < 0)
        return 1;
    freeaddrinfo(res);
    t0 = now_us();
    for (int i = 0; i < n; i++) {
        if (lookup(name, "80", &res) < 0)
            return 1;
        freeaddrinfo(res);
    }
    printf("mean_us=%.3f\n", (now_us() - t0) / n);
    return 0;
}

static int sink(const char *addr, int port, int life)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);

    alarm(life);
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1)
        return 2;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
        perror("sink");
        return 1;
    }
    for (;;) {
        static char buf[65536];
        struct timeval tv = {10, 0};
        long long got = 0;
        ssize_t r;
        int c = accept(s, NULL, NULL);

        if (c < 0)
            continue;
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        while ((r = recv(c, buf, sizeof(buf), 0)) > 0)
            got += r;
        r = snprintf(buf, sizeof(buf), "got %lld\n", got);
        send(c, buf, r, MSG_NOSIGNAL);
        close(c);
    }
}

static int upload(int s, long long bytes)
{
    static char buf[65536];
    double t0 = now_us();
    long long left = bytes;
    char ans[64];
    ssize_t r;

    while (left > 0) {
        r = send(s, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf), MSG_NOSIGNAL);
        if (r <= 0) {
            printf("error=send %s\n", strerror(errno));
            return 1;
        }
        left -= r;
    }
    shutdown(s, SHUT_WR);
    r = recv(s, ans, sizeof(ans) - 1, 0);
    if (r <= 0) {
        printf("error=no answer from the sink\n");
        return 1;
    }
    ans[r] = '\0';
    printf("upload_ms=%.3f\nsink=%s", (now_us() - t0) / 1e3, ans);
    return 0;
}

static int dial(const char *name, const char *port, long long bytes)
{
    static const char req[] = "GET / HTTP/1.0\r\nHost: he\r\n\r\n";
    struct addrinfo *res;
    char buf[512], *body, *nl;
    size_t have = 0;
    ssize_t r;
    double t0 = now_us(), t1, t2;
    int s, sndbuf = 0;
    socklen_t sl = sizeof(sndbuf);

    if (lookup(name, port, &res) < 0)
        return 1;
    t1 = now_us();
    s = socket(res->ai_family, SOCK_STREAM, 0);
    if (connect(s, res->ai_addr, res->ai_addrlen) < 0) {
        printf("error=connect %s\n", strerror(errno));
        return 1;
    }
    t2 = now_us();
    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl);
    printf("gai_ms=%.3f\nconnect_ms=%.3f\ntotal_ms=%.3f\nfamily=%s\nsndbuf=%d\n", (t1 - t0) / 1e3,
           (t2 - t1) / 1e3, (t2 - t0) / 1e3, res->ai_family == AF_INET6 ? "inet6" : "inet", sndbuf);
    freeaddrinfo(res);
    if (bytes > 0) {
        int rc = upload(s, bytes);
        close(s);
        return rc;
    }
    if (send(s, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
        return 1;
    while (have < sizeof(buf) - 1 && (r = recv(s, buf + have, sizeof(buf) - 1 - have, 0)) > 0)
        have += r;
    buf[have] = '\0';
    body = strstr(buf, "\r\n\r\n");
    body = body ? body + 4 : buf;
    if ((nl = strchr(body, '\n')))
        *nl = '\0';
    printf("reply=%s\n", body);
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "fresh"))
        return fresh(argv[2], atoi(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "same"))
        return same(argv[2], atoi(argv[3]));
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "connect"))
        return dial(argv[2], argv[3], argc == 5 ? atoll(argv[4]) : 0);
    if (argc == 5 && !strcmp(argv[1], "sink"))
        return sink(argv[2], atoi(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: resolvebench fresh SUFFIX N | same NAME N | connect NAME PORT [BYTES]"
                    " | sink ADDR PORT LIFE_S\n");
    return 2;
}
