/* DefaultDialer: the program's own socket, the dialer's options, the real connect. */
#include "common/dialer/dialer.h"

#include "common/dialer/io.h"
#include "common/monotime.h"
#include "common/sockopt.h"
#include "common/sys.h"
#include "common/hotpath.h"

#include <errno.h>
#include <fcntl.h>

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
            err = io_wait_connected(fd, monotime_ms() + timeout_ms);
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

HOT_PATH int default_prepare(struct dial *d)
{
    const char *opt = NULL;
    int err;

    if (d->applied)
        return 0;
    err = sockopt_apply(&d->conf->dialers[d->dialer], d->fd, d->sa->sa_family, d->type, &opt);
    if (err)
        dial_refuse(d, opt);
    d->applied = err == 0;
    return err;
}

HOT_PATH int default_dial(struct dial *d, uint32_t timeout_ms)
{
    int err = default_prepare(d);

    if (err)
        return err;
    if (timeout_ms && d->type == SOCK_STREAM) {
        int flags = dial_flags(d);
        if (flags >= 0 && !(flags & O_NONBLOCK))
            return connect_bounded(d->fd, d->sa, d->len, timeout_ms, flags);
    }
    return sys.connect(d->fd, d->sa, d->len) < 0 ? errno : 0;
}
