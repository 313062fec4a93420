/* DefaultDialer: the program's own socket, the dialer's options, the real connect. */
#include "common/dialer/dialer.h"

#include "common/sockopt.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

int dial_wait_connected(int fd, uint32_t timeout_ms)
{
    long long deadline = dial_now_ms() + timeout_ms;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);

    for (;;) {
        long long left = deadline - dial_now_ms();
        int r;

        if (left <= 0)
            return ETIMEDOUT;
        r = poll(&p, 1, (int)left);
        if (r > 0)
            break;
        if (r == 0)
            return ETIMEDOUT;
        if (errno != EINTR)
            return errno;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

/* A blocking socket with a deadline: connect non-blocking, poll, restore the
 * program's flags exactly as they were. */
static int connect_bounded(int fd, const struct sockaddr *sa, socklen_t len, uint32_t timeout_ms,
                           int flags)
{
    int err = 0;

    if (sys.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return errno;
    if (sys.connect(fd, sa, len) < 0) {
        err = errno;
        if (err == EINPROGRESS)
            err = dial_wait_connected(fd, timeout_ms);
    }
    if (err == ETIMEDOUT) {
        /* Abort the pending handshake so no late connection appears behind the
         * program's back (AF_UNSPEC dissolves the association). */
        struct sockaddr unspec = {.sa_family = AF_UNSPEC};
        sys.connect(fd, &unspec, sizeof(unspec));
    }
    sys.fcntl(fd, F_SETFL, flags);
    return err;
}

int default_prepare(struct dial *d)
{
    int err;

    if (d->applied)
        return 0;
    err = sockopt_apply(&d->conf->dialers[d->dialer], d->fd, d->sa->sa_family, d->type, &d->failed);
    d->applied = err == 0;
    return err;
}

int default_dial(struct dial *d, uint32_t timeout_ms)
{
    int err = default_prepare(d);

    if (err)
        return err;
    if (timeout_ms && d->type == SOCK_STREAM) {
        int flags = sys.fcntl(d->fd, F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK))
            return connect_bounded(d->fd, d->sa, d->len, timeout_ms, flags);
    }
    return sys.connect(d->fd, d->sa, d->len) < 0 ? errno : 0;
}
