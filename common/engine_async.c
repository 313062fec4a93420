/* engine_async: the engine's dials that run in the background (common/pending.h)
 * and how long a program waits for one: a non-blocking socket gets EINPROGRESS at
 * once, a blocking one with SO_SNDTIMEO waits that long, any other runs inline. */
#include "common/engine_int.h"

#include "common/dialer/dialer.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/pending.h"
#include "common/reentry.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

/* See engine_int.h; the fcntl and getsockopt are off the direct fast path. */
long async_wait_ms(int fd, uint32_t fst, int *fl)
{
    struct timeval tv = {0, 0};
    socklen_t len = sizeof(tv);

    *fl = -1;
    if ((fst & FD_KIND_MASK) != FD_TCP || reentry_nested())
        return -1;
    /* Made blocking by the socket() hook, no flags or send timeout set since: the
     * dial runs here, and nothing needs its flags unless it changes them (then it
     * reads them). Taken wrongly, the dial still runs correctly, only inline. */
    if ((fst & (FD_BLOCKING | FD_NO_SNDTIMEO)) == (FD_BLOCKING | FD_NO_SNDTIMEO))
        return -1;
    if ((*fl = sys.fcntl(fd, F_GETFL)) < 0)
        return -1;
    if (*fl & O_NONBLOCK)
        return 0;
    /* A forked child runs a blocking dial in its own thread, as before the send
     * timeout was honoured: a thread started after a fork of a threaded program is
     * outside what POSIX allows until exec, and the sanitizers' runtimes hang or
     * complain there (t_stress_fork under ASan and TSan). Non-blocking sockets
     * have no other way. */
    if ((fst & FD_NO_SNDTIMEO) || pending_forked() ||
        sys.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) < 0 || (!tv.tv_sec && !tv.tv_usec))
        return -1;
    return tv.tv_sec * 1000L + (tv.tv_usec + 999) / 1000;
}

/* The driver's half of a non-blocking dial (common/pending.h): the same dialers,
 * on the duplicate. */
static int async_run(struct pend_dial *pd)
{
    return pd->d.host ? resolve_dial(&pd->d) : dialer_dial(&pd->d);
}

static void async_done(int fd, struct pend_dial *pd, int err)
{
    pd->d.host = pd->host[0] ? pd->host : NULL;
    dial_finish(fd, pd->fst, &pd->d, (const struct sockaddr *)&pd->sa, pd->d.len, pd->rule, err,
                pd->had_options, pd->maker, &pd->t0);
}

static const struct pend_ops async_ops = {async_run, async_done};

int dial_async(const struct dial *d, uint32_t fst, int rule, int maker, const struct timespec *t0)
{
    struct pend_dial *pd = malloc(sizeof(*pd));
    int err;

    if (!pd)
        return ENOMEM;
    memset(pd, 0, offsetof(struct pend_dial, d.why));
    memcpy(&pd->d, d, offsetof(struct dial, why));
    pd->d.why[0] = '\0';
    memcpy(&pd->sa, d->sa, d->len);
    pd->host[0] = '\0';
    if (d->host)
        snprintf(pd->host, sizeof(pd->host), "%s", d->host);
    pd->fst = fst;
    pd->rule = rule;
    pd->maker = maker;
    pd->had_options = d->applied;
    pd->t0 = *t0;
    err = pending_start(d->fd, pd, &async_ops);
    free(pd);
    if (err)
        log_warn("%s[%d] tcp fd %d: a non-blocking dial could not start (%s): refused", state.prog,
                 (int)getpid(), d->fd, strerror(err));
    return err ? err : EINPROGRESS;
}
