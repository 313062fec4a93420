#include "common/dialer/io.h"

#include "common/fdtab.h"
#include "common/monotime.h"
#include "common/sys.h"
#include "common/watchdog.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

/* poll FD for EVENTS until DEADLINE; 0 with what came in *REVENTS, ETIMEDOUT or an errno. */
static int io_poll(int fd, short events, long long deadline, short *revents)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        long long left = deadline - monotime_ms();
        int r;
        if (left <= 0)
            return ETIMEDOUT;
        r = sys.poll(&p, 1, (int)left);
        if (r > 0) {
            *revents = p.revents;
            return 0;
        }
        if (r == 0)
            return ETIMEDOUT;
        if (errno != EINTR)
            return errno;
    }
}

int io_wait(int fd, short events, long long deadline)
{
    short revents;

    return io_poll(fd, events, deadline, &revents);
}

int io_wait_connected(int fd, long long deadline)
{
    short revents = 0;
    int err = io_poll(fd, POLLOUT, deadline, &revents);
    socklen_t len = sizeof(err);

    /* A connect that failed shows POLLERR (and POLLHUP); one that worked only
     * POLLOUT, and then SO_ERROR has nothing to say: a system call saved per hop. */
    if (!err && (revents & (POLLERR | POLLHUP)) &&
        sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    return err;
}

int io_write_all(int fd, const uint8_t *buf, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t w = sys.sendto(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT, NULL, 0);
        if (w > 0) {
            buf += w;
            n -= w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return errno;
        int err = io_wait(fd, POLLOUT, deadline);
        if (err)
            return err;
    }
    return 0;
}

int io_read_to(int fd, uint8_t *buf, size_t *have, size_t want, long long deadline, bool watched)
{
    while (watched && *have < want) {
        ssize_t r = sys.recv(fd, buf + *have, want - *have, 0);
        if (r > 0)
            *have += r;
        else if (r == 0)
            return ECONNRESET;
        else if (errno == EAGAIN)
            watched = false; /* the rest the poll's way */
        else if (errno != EINTR)
            return errno;
    }
    /* A reply's first bytes are seldom there when we ask: the proxy has to be
     * scheduled (and, for a CONNECT, to connect) first. Waiting before the first
     * read saves a read that would only say EAGAIN; its later bytes came with
     * the first ones, and are read at once. */
    short revents = 0;
    int err;

    if (*have == 0 && want > 0 && (err = io_poll(fd, POLLIN, deadline, &revents)))
        return err;
    while (*have < want) {
        ssize_t r = sys.recv(fd, buf + *have, want - *have, MSG_DONTWAIT);
        if (r > 0) {
            *have += r;
            continue;
        }
        if (r == 0)
            return ECONNRESET;
        if (errno != EAGAIN && errno != EINTR)
            return errno;
        /* Hung up with nothing to read: nothing will come. A datagram socket
         * says EAGAIN, not EOF, to a read that does not wait, even shut down
         * (common/pending.c puts one under an abandoned dial's number). */
        if (errno == EAGAIN && (revents & (POLLHUP | POLLERR)))
            return ECONNRESET;
        if ((err = io_poll(fd, POLLIN, deadline, &revents)))
            return err;
    }
    return 0;
}

int io_watch(int fd, long long deadline)
{
    int slot = watch_arm(fd, deadline);

    if (slot >= 0)
        fdtab_or(fd, FD_WATCHED);
    return slot;
}

bool io_unwatch(int fd, int slot)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    /* Still set: the number was not closed or replaced meanwhile (close and dup2
     * reset its word; the watch went to a copy, common/watchdog.h). */
    bool ours = fdtab_and(fd, ~FD_WATCHED) & FD_WATCHED;

    if (!watch_disarm(slot))
        return false;
    if (ours)
        sys.connect(fd, &unspec, sizeof(unspec));
    return true;
}
