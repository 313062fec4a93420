/* nbcore: a non-blocking connect as event loops make it, and what the program
 * sees while the dial is pending and after (t_nonblock.sh).
 *
 *   nbcore WAIT HOST PORT [close|shutdown|dupclose]
 *
 * WAIT: poll, select, epoll (registered after connect), epollet (edge-triggered,
 * registered BEFORE connect, as nginx does). Prints key=value lines:
 *   connect=     connect's errno name (EINPROGRESS) or 0
 *   again=       a second connect at once (EALREADY while pending)
 *   send=, recv= send/recv at once (EAGAIN while pending)
 *   soerr_pending=  SO_ERROR at once (EINPROGRESS while pending)
 *   peer_pending=   getpeername at once (ENOTCONN while pending)
 *   waits=       how many wakeups of WAIT it took until the socket was writable
 *   soerr=       SO_ERROR after (0 or an errno name), soerr2= asked again
 *   peer=        getpeername after (address:port)
 *   after=       a connect after (EISCONN)
 *   reply=       the first line the server sent
 * close/shutdown: the socket is closed (shut down) 0.5 s into the dial; fds_before=
 * and fds_after= count /proc/self/fd before the socket and after (up to 3 s).
 * dupclose: a dup of the socket is made and the original closed while pending;
 * the dial goes on, through the copy.
 * fork: the process forks while the dial is pending; the child waits with WAIT
 * and prints child_waits= and child_soerr= (its copy of the dial fails), the
 * parent goes on as usual. */
#include <arpa/inet.h>
#include <dirent.h>
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
#include <unistd.h>

static const char *en(int e)
{
    static char buf[32];
    const char *n = e ? strerrorname_np(e) : "0";

    snprintf(buf, sizeof(buf), "%s", n ? n : "?");
    return buf;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n - 1; /* the directory's own */
}

static int soerr(int fd)
{
    int e = -1;
    socklen_t l = sizeof(e);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
        return errno;
    return e;
}

static void print_peer(const char *key, int fd)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof(ss);
    char a[64] = "?";

    if (getpeername(fd, (struct sockaddr *)&ss, &l) < 0) {
        printf("%s=%s\n", key, en(errno));
        return;
    }
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
    printf("%s=%s:%d\n", key, a, ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

/* Wait until FD is writable (or failed) with WAIT; returns the wakeups, -1 on timeout. */
static int wait_writable(const char *wait, int fd, int ep)
{
    for (int n = 1; n <= 50; n++) {
        if (!strcmp(wait, "poll")) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, 10000) <= 0)
                return -1;
            if (p.revents)
                return n;
        } else if (!strcmp(wait, "select")) {
            fd_set w;
            struct timeval tv = {10, 0};
            FD_ZERO(&w);
            FD_SET(fd, &w);
            if (select(fd + 1, NULL, &w, NULL, &tv) <= 0)
                return -1;
            if (FD_ISSET(fd, &w))
                return n;
        } else {
            struct epoll_event ev;
            if (epoll_wait(ep, &ev, 1, 10000) <= 0)
                return -1;
            if (ev.data.fd == fd && (ev.events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                return n;
        }
    }
    return -1;
}

static void read_reply(int fd)
{
    char buf[256];
    size_t have = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (have < sizeof(buf) - 1 && poll(&p, 1, 5000) > 0) {
        ssize_t r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
        if (r <= 0)
            break;
        have += (size_t)r;
        if (memchr(buf, '\n', have))
            break;
    }
    buf[have] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    for (size_t i = 0; buf[i]; i++)
        if ((unsigned char)buf[i] < 32 || (unsigned char)buf[i] > 126)
            buf[i] = '.';
    printf("reply=%s\n", buf);
}

int main(int argc, char **argv)
{
    const char *wait = argv[1], *what = argc > 4 ? argv[4] : "";
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int fd, ep = -1, rc, before, n;
    char c = 'x';

    if (argc < 4)
        return 2;
    if (inet_pton(AF_INET, argv[2], &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(atoi(argv[3]));
        len = sizeof(struct sockaddr_in);
    } else {
        ss.ss_family = AF_INET6;
        inet_pton(AF_INET6, argv[2], &((struct sockaddr_in6 *)&ss)->sin6_addr);
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(atoi(argv[3]));
        len = sizeof(struct sockaddr_in6);
    }
    before = count_fds();
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (!strncmp(wait, "epoll", 5)) {
        ep = epoll_create1(EPOLL_CLOEXEC);
        before++;
    }
    if (!strcmp(wait, "epollet")) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    rc = connect(fd, (struct sockaddr *)&ss, len);
    printf("connect=%s\n", en(rc < 0 ? errno : 0));
    rc = connect(fd, (struct sockaddr *)&ss, len);
    printf("again=%s\n", en(rc < 0 ? errno : 0));
    printf("send=%s\n", en(send(fd, &c, 1, MSG_NOSIGNAL) < 0 ? errno : 0));
    printf("recv=%s\n", en(recv(fd, &c, 1, 0) < 0 ? errno : 0));
    printf("soerr_pending=%s\n", en(soerr(fd)));
    print_peer("peer_pending", fd);
    if (!strcmp(wait, "epoll")) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    if (!strcmp(what, "close") || !strcmp(what, "shutdown")) {
        usleep(500000); /* the connection to the proxy is made by then */
        if (!strcmp(what, "shutdown"))
            printf("shutdown=%s\n", en(shutdown(fd, SHUT_RDWR) < 0 ? errno : 0));
        close(fd);
        for (int i = 0; i < 60 && count_fds() != before; i++)
            usleep(50000); /* the driver closes its copies when the dial ends */
        printf("fds_before=%d\nfds_after=%d\n", before, count_fds());
        return 0;
    }
    if (!strcmp(what, "dupclose")) {
        int copy = dup(fd);
        close(fd);
        fd = copy;
        if (ep >= 0) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.fd = fd};
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
    }
    if (!strcmp(what, "fork")) {
        int pfd[2];
        pid_t pid;
        char line[64] = "";
        if (pipe(pfd) < 0 || (pid = fork()) < 0)
            return 3;
        if (pid == 0) {
            alarm(10);
            n = wait_writable(wait, fd, ep);
            dprintf(pfd[1], "child_waits=%d\nchild_soerr=%s\n", n, en(soerr(fd)));
            _exit(0);
        }
        close(pfd[1]);
        waitpid(pid, NULL, 0);
        ssize_t got = read(pfd[0], line, sizeof(line) - 1);
        printf("%s", got > 0 ? line : "child=nothing\n");
    }
    n = wait_writable(wait, fd, ep);
    printf("waits=%d\n", n);
    printf("soerr=%s\n", en(soerr(fd)));
    printf("soerr2=%s\n", en(soerr(fd)));
    print_peer("peer", fd);
    rc = connect(fd, (struct sockaddr *)&ss, len);
    printf("after=%s\n", en(rc < 0 ? errno : 0));
    read_reply(fd);
    return 0;
}
