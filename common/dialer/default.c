/* DefaultDialer: the program's own socket, the dialer's options, the real connect. */
#include "common/dialer/dialer.h"

#include "common/dialer/io.h"
#include "common/monotime.h"
#include "common/sockopt.h"
#include "common/sys.h"
#include "common/hotpath.h"

#include <errno.h>
#include <fcntl.h>

/* A blocking socket with a deadline, known to be blocking (fdtab FD_BLOCKING):
 * the connect the program asked for, ended at the deadline by the watchdog
 * (common/watchdog.h); its flags are never touched. Taken wrongly for blocking,
 * the socket gets the kernel's EINPROGRESS, as the program expects of it.
 * -1: no watchdog here. */
static int connect_watched(struct dial *d, uint32_t timeout_ms)
{
    int slot, err;

    if (!dial_known_blocking(d) || (slot = io_watch(d->fd, monotime_ms() + timeout_ms)) < 0)
        return -1;
    err = sys.connect(d->fd, d->sa, d->len) < 0 ? errno : 0;
    return io_unwatch(d->fd, slot) ? ETIMEDOUT : err;
}

/* A blocking socket with a deadline, the other way: connect non-blocking, poll,
 * restore the program's flags exactly as they were. */
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
        if ((err = connect_watched(d, timeout_ms)) >= 0)
            return err;
        int flags = dial_flags(d);
        if (flags >= 0 && !(flags & O_NONBLOCK))
            return connect_bounded(d->fd, d->sa, d->len, timeout_ms, flags);
    }
    return sys.connect(d->fd, d->sa, d->len) < 0 ? errno : 0;
}
