/* nbprobe: an event-loop client that dials N non-blocking connections at once, the way
 * nginx (epoll, edge-triggered, registered BEFORE connect), curl (poll) and older loops
 * (select) do. For t_nb_probe.sh.
 *
 *   nbprobe epoll|epoll-vfork|poll|select HOST PORT N PROXYLOG RELEASE
 *
 * 1. N sockets (SOCK_NONBLOCK); in epoll mode each is registered with
 *    EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET before connect (epoll-vfork: then a vfork
 *    child closes every descriptor above 2 with close_range and exits, as a spawn
 *    with close_fds does). connect() each: einprogress=<how many gave -1
 *    EINPROGRESS>.
 * 2. Waits (bounded) until PROXYLOG holds N lines `REQ ...`: the last proxy of the
 *    chain has every request and holds its answer, so every dial is pending while
 *    the kernel socket to the first hop is long writable. reqs=<count>.
 * 3. While pending: early_ready=<sockets the mode reports ready with timeout 0>,
 *    pending_send=, pending_recv=, pending_connect=, pending_peer= (errno names, the
 *    first socket).
 * 4. Creates RELEASE (the proxy answers), then waits in the mode, at most 8 s, for
 *    each socket to become writable and then readable, reading until EAGAIN (edge-
 *    triggered: no event is asked for twice). writable=, so_error_zero=,
 *    after_connect=<errno of a second connect on the first socket>, peer=ip:port
 *    (getpeername of the first), ok=<sockets that read a `you are ...` line>,
 *    reply=<the first line>.
 * Exit status 0; the checks are the caller's. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 64

enum mode { M_EPOLL, M_POLL, M_SELECT };

struct conn {
    int fd;
    int writable;
    int done;
    char line[128];
    size_t len;
};

static struct conn c[MAXN];
static int n, ep = -1;
static enum mode mode;

static const char *ename(int e)
{
    switch (e) {
    case 0:
        return "0";
    case EAGAIN:
        return "EAGAIN";
    case EINPROGRESS:
        return "EINPROGRESS";
    case EALREADY:
        return "EALREADY";
    case EISCONN:
        return "EISCONN";
    case ENOTCONN:
        return "ENOTCONN";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case ECONNABORTED:
        return "ECONNABORTED";
    case ETIMEDOUT:
        return "ETIMEDOUT";
    case EPIPE:
        return "EPIPE";
    default:
        return strerrorname_np(e) ? strerrorname_np(e) : "other";
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_req(const char *path)
{
    char buf[512];
    int k = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(buf, sizeof buf, f))
        k += strncmp(buf, "REQ ", 4) == 0;
    fclose(f);
    return k;
}

/* Sockets the mode reports ready within ms; marks[i] = 1 for socket i, with OUT or
 * IN as wanted (poll/select ask OUT until writable, then IN). */
static int wait_ready(int ms, int *marks)
{
    int k = 0, i;
    memset(marks, 0, sizeof(int) * MAXN);
    if (mode == M_EPOLL) {
        struct epoll_event ev[MAXN];
        int r = epoll_wait(ep, ev, MAXN, ms);
        for (i = 0; i < r; i++)
            if (ev[i].events & (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                marks[ev[i].data.u32] = 1;
                k++;
            }
    } else if (mode == M_POLL) {
        struct pollfd p[MAXN];
        for (i = 0; i < n; i++) {
            p[i].fd = c[i].done ? -1 : c[i].fd;
            p[i].events = c[i].writable ? POLLIN : POLLOUT;
        }
        if (poll(p, n, ms) > 0)
            for (i = 0; i < n; i++)
                if (p[i].revents) {
                    marks[i] = 1;
                    k++;
                }
    } else {
        fd_set rs, ws;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        int max = 0;
        FD_ZERO(&rs);
        FD_ZERO(&ws);
        for (i = 0; i < n; i++) {
            if (c[i].done)
                continue;
            FD_SET(c[i].fd, c[i].writable ? &rs : &ws);
            if (c[i].fd > max)
                max = c[i].fd;
        }
        if (select(max + 1, &rs, &ws, NULL, &tv) > 0)
            for (i = 0; i < n; i++)
                if (!c[i].done && (FD_ISSET(c[i].fd, &rs) || FD_ISSET(c[i].fd, &ws))) {
                    marks[i] = 1;
                    k++;
                }
    }
    return k;
}

static void drain(struct conn *x)
{
    for (;;) {
        ssize_t r = recv(x->fd, x->line + x->len, sizeof x->line - 1 - x->len, 0);
        if (r <= 0) {
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                x->done = 1;
            break;
        }
        x->len += (size_t)r;
        x->line[x->len] = 0;
        if (memchr(x->line, '\n', x->len) || x->len + 1 >= sizeof x->line) {
            x->done = 1;
            break;
        }
    }
}

static void pending_checks(void)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char b;
    int marks[MAXN];
    printf("early_ready=%d\n", wait_ready(0, marks));
    errno = 0;
    printf("pending_send=%s\n", send(c[0].fd, "x", 1, MSG_NOSIGNAL) < 0 ? ename(errno) : "sent");
    printf("pending_recv=%s\n", recv(c[0].fd, &b, 1, 0) < 0 ? ename(errno) : "data");
    printf("pending_peer=%s\n",
           getpeername(c[0].fd, (struct sockaddr *)&ss, &sl) < 0 ? ename(errno) : "an address");
}

static void second_connect(const struct sockaddr_in *sa, const char *what)
{
    int r = connect(c[0].fd, (const struct sockaddr *)sa, sizeof *sa);
    printf("%s=%s\n", what, r < 0 ? ename(errno) : "0");
}

static void print_peer(void)
{
    struct sockaddr_in p;
    socklen_t pl = sizeof p;
    char ip[64] = "none";
    if (getpeername(c[0].fd, (struct sockaddr *)&p, &pl) == 0) {
        inet_ntop(AF_INET, &p.sin_addr, ip, sizeof ip);
        printf("peer=%s:%d\n", ip, ntohs(p.sin_port));
    } else {
        printf("peer=%s\n", ename(errno));
    }
}

static void complete(void)
{
    int marks[MAXN], i, writable = 0, zero = 0, ok = 0;
    double end = now() + 8;
    while (now() < end) {
        int left = 0;
        for (i = 0; i < n; i++)
            left += !c[i].done;
        if (!left)
            break;
        wait_ready(200, marks);
        for (i = 0; i < n; i++) {
            if (!marks[i] || c[i].done)
                continue;
            if (!c[i].writable) {
                int err = -1;
                socklen_t el = sizeof err;
                c[i].writable = 1;
                writable++;
                getsockopt(c[i].fd, SOL_SOCKET, SO_ERROR, &err, &el);
                zero += err == 0;
                if (err != 0) {
                    c[i].done = 1;
                    continue;
                }
            }
            drain(&c[i]);
        }
    }
    for (i = 0; i < n; i++)
        ok += strncmp(c[i].line, "you are ", 8) == 0;
    printf("writable=%d\nso_error_zero=%d\nok=%d\n", writable, zero, ok);
    c[0].line[strcspn(c[0].line, "\r\n")] = 0;
    printf("reply=%s\n", c[0].line);
}

/* A vfork child that closes every descriptor above 2 and exits: it runs in this
 * process's memory meanwhile. */
static void spawn_closing(void)
{
    pid_t p = vfork();

    if (p == 0) {
        close_range(3, ~0u, 0);
        _exit(0);
    }
    if (p > 0)
        waitpid(p, NULL, 0);
    printf("spawned=%s\n", p > 0 ? "yes" : ename(errno));
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int i, inprog = 0, reqs = 0;
    if (argc != 7 || (n = atoi(argv[4])) < 1 || n > MAXN) {
        fprintf(stderr,
                "usage: nbprobe epoll|epoll-vfork|poll|select HOST PORT N(1-%d) PROXYLOG RELEASE\n",
                MAXN);
        return 2;
    }
    mode = strncmp(argv[1], "epoll", 5) == 0 ? M_EPOLL
           : strcmp(argv[1], "poll") == 0    ? M_POLL
                                             : M_SELECT;
    inet_pton(AF_INET, argv[2], &sa.sin_addr);
    sa.sin_port = htons((unsigned short)atoi(argv[3]));
    if (mode == M_EPOLL)
        ep = epoll_create1(EPOLL_CLOEXEC);
    for (i = 0; i < n; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (mode == M_EPOLL) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
            ev.data.u32 = (unsigned)i;
            epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
        }
    }
    if (strcmp(argv[1], "epoll-vfork") == 0)
        spawn_closing();
    for (i = 0; i < n; i++)
        inprog += connect(c[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno == EINPROGRESS;
    printf("einprogress=%d\n", inprog);
    fflush(stdout);
    for (i = 0; i < 200 && (reqs = count_req(argv[5])) < n; i++)
        usleep(50000);
    printf("reqs=%d\n", reqs);
    pending_checks();
    second_connect(&sa, "pending_connect");
    fflush(stdout);
    close(open(argv[6], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    complete();
    second_connect(&sa, "after_connect");
    print_peer();
    return 0;
}
