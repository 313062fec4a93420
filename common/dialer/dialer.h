/* dialer: dial a socket through one configured [dialer], as sing-box's
 * common/dialer does: DefaultDialer (default.c), DetourDialer (detour.c, its hops
 * in hop_*.c), ResolveDialer (resolve.c), Happy Eyeballs (parallel.c).
 *
 * Promise: every dial works on the program's own descriptor, keeps its flags and
 * earlier options, and returns what connect(2) would: 0, or an errno (EINPROGRESS
 * for a non-blocking socket on the direct path). A refused option fails the dial
 * and names the option; nothing ever connects without the options it asked for.
 */
#ifndef DIALSHIM_DIALER_H
#define DIALSHIM_DIALER_H

#include "common/fdtab.h"
#include "common/monotime.h"
#include "common/proto/proto.h"
#include "common/strategy.h"
#include "common/sys.h"
#include "conf/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

struct dial {
    const struct conf *conf;
    int dialer; /* index into conf->dialers */
    int fd;     /* the program's socket */
    int type;   /* SOCK_STREAM or SOCK_DGRAM */
    const struct sockaddr *sa;
    socklen_t len;
    const char *host; /* the destination's name, for a proxy to resolve, or NULL */
    bool applied;     /* options were set by an earlier call on this socket */
    bool fl_known;    /* fl holds the socket's F_GETFL: the caller read it already */
    bool fl_changed;  /* the dial made the socket non-blocking: fl is to be put back */
    int fl;
    /* A background dial's "the program gave up on it" (closed or shut down its
     * socket; common/pending.h), read with relaxed loads; NULL for a dial run inline */
    const bool *abandoned;
    int swapped_family; /* out: a socket of this other family took the program's fd, or 0 */
    bool warn;          /* out: log the failure as a warning (a refusal, a proxy's error) */
    char why[600];      /* out: the one reason a dial gives; read through dial_why() */
};

/* D's reason (NULL: none). */
static inline const char *dial_why(const struct dial *d)
{
    return d->why[0] ? d->why : NULL;
}

/* The dial is refused, not failed on the way: an option the kernel would not set
 * (REASON names it), a block, a chain that cannot be built. The decision is then
 * logged as a warning. REASON becomes D's reason unless a fuller one was composed. */
static inline void dial_refuse(struct dial *d, const char *reason)
{
    if (!d->why[0] && reason)
        snprintf(d->why, sizeof(d->why), "%s", reason);
    d->warn = true;
}

/* D's socket's file status flags (F_GETFL): the engine reads them once per dial
 * (a system call is about a microsecond); -1 with errno on failure. */
static inline int dial_flags(struct dial *d)
{
    if (!d->fl_known) {
        d->fl = sys.fcntl(d->fd, F_GETFL);
        d->fl_known = d->fl >= 0;
    }
    return d->fl;
}

/* Make D's socket non-blocking for the rest of the dial (once; the dialer that
 * owns the dial puts D->fl back when D->fl_changed). 0 or an errno. */
static inline int dial_nonblocking(struct dial *d)
{
    int fl;

    if (d->fl_changed)
        return 0;
    if ((fl = dial_flags(d)) < 0)
        return errno;
    if (fl & O_NONBLOCK)
        return 0;
    if (sys.fcntl(d->fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return errno;
    d->fl_changed = true;
    return 0;
}

/* D's socket may be connected as it is, blocking, the watchdog bounding the call
 * (common/watchdog.h): an inline dial on a socket the socket() hook made blocking
 * and nobody has made non-blocking since (fdtab FD_BLOCKING), nor this dial. */
static inline bool dial_known_blocking(const struct dial *d)
{
    return !d->abandoned && !d->fl_changed && (fdtab_get(d->fd) & FD_BLOCKING) &&
           !(d->fl_known && (d->fl & O_NONBLOCK));
}

/* The program gave up on D: its failures from now on say nothing about the
 * proxies (nothing to learn, no retry to make). */
static inline bool dial_abandoned(const struct dial *d)
{
    return d->abandoned && __atomic_load_n(d->abandoned, __ATOMIC_RELAXED);
}

/* Milliseconds on the monotonic clock: every dial's deadline is counted in these. */
static inline long long dial_now_ms(void)
{
    return monotime_ms();
}

/* Microseconds on the same clock, for the Happy Eyeballs pacing. */
static inline long long dial_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Route-independent entry point: dial D->sa over dialer D->dialer. Returns 0 or errno. */
int dialer_dial(struct dial *d);

/* DefaultDialer (common/dialer/default.c): options, then the real connect,
 * bounded by TIMEOUT_MS for a blocking socket (0 = the kernel's own). */
int default_dial(struct dial *d, uint32_t timeout_ms);

/* The DefaultDialer's options on D->fd, once (D->applied records it). Returns 0 or errno. */
int default_prepare(struct dial *d);

/* DetourDialer (common/dialer/detour.c): through the proxy chain that ends in
 * D->dialer, on the program's socket, completed inside connect within TIMEOUT_MS. */
int detour_dial(struct dial *d, uint32_t timeout_ms);

/* The proxies of the chain that ends in dialer LAST, from the nearest (up to 16),
 * and in *MAKER the dialer whose DefaultDialer options shape the first hop.
 * Returns the count, or -1 for a chain too long. */
int detour_chain(const struct conf *c, int last, int *hops, int *maker);

/* SOCKS5 UDP ASSOCIATE at DIALER (reached through its own chain) on a new TCP
 * connection, with CLIENT as the address the datagrams will come from. DEADLINE is
 * CLOCK_MONOTONIC in milliseconds. Returns 0 with the connected control socket in
 * *CTL (non-blocking, close-on-exec) and the relay in *BOUND, or an errno with the
 * reason in WHY. */
int detour_associate(const struct conf *c, int dialer, const struct sockaddr *client,
                     long long deadline, int *ctl, struct proto_addr *bound, char *why,
                     size_t whycap);

/* AssociateDialer (common/dialer/associate.c): whether datagrams routed to
 * DIALER can travel by UDP ASSOCIATE: 0, or EPERM with the reason in WHY
 * (udp = block, a SOCKS4/HTTP hop, a chain too long). */
int associate_check(const struct conf *c, int dialer, char *why, size_t whycap);

/* Make sure D->fd has an association through D->dialer (common/relay.h): reuse its
 * own, or open one within the dialer's connect_timeout, applying the first hop's
 * options to D->fd (D->applied as in struct dial). Returns 0 (*CREATED tells a new
 * one) or an errno with the reason in D->why. EPERM when the socket already relays
 * through another dialer. */
int associate_open(struct dial *d, bool *created);

/* connect(2) of a UDP socket routed to a SOCKS5 dialer: the socket's association
 * is recorded with the peer (D->host or D->sa) and opened by its first datagram
 * (associate_open), so a connect alone opens nothing at the proxy. Meanwhile the
 * socket carries the first hop's options and is connected to the first proxy's
 * server address (bound to a port when that is a name): getsockname answers as
 * after any connect, and the socket hears nothing. An association already open is
 * reused: D->fd is connected to its relay. Returns 0 or an errno. */
int associate_dial(struct dial *d);

/* ResolveDialer (common/dialer/resolve.c): D->host is the name a fake address
 * stands for; resolve it (or hand it to a remote_dns proxy) and dial. */
int resolve_dial(struct dial *d);

/* The strategy for names DIALER resolves: its domain_strategy, else its resolver's. */
enum strategy resolve_strategy(const struct conf *c, int dialer);

/* Resolve NAME for DIALER into OUT (CAP entries), filtered and ordered by the
 * strategy (RACE_ORDER: families interleaved for Happy Eyeballs). Returns the
 * count, or a negative errno with the reason in WHY. */
int resolve_name(const struct conf *c, int dialer, const char *name, struct dns_addr *out, int cap,
                 bool race_order, char *why, size_t whycap);

/* Happy Eyeballs (common/dialer/parallel.c): race ADDRS (in attempt order) to PORT,
 * a new attempt every fallback_delay of the dialer, the program's descriptor one of the racers. */
int happy_dial(struct dial *d, const struct dns_addr *addrs, int n, uint16_t port,
               uint32_t timeout_ms);

/* The dialer races interfaces (network_strategy, network_type): even a literal
 * address goes through happy_dial. */
bool parallel_wanted(const struct conf_dialer *cd);

/* Whether a TCP connect under C may ever run in the background (common/pending.h)
 * or put another socket under the program's number (a netns, a race, a proxy of
 * the other family): false when every dialer is direct (no netns, no
 * network_strategy) or block and no resolver hands out fake addresses. The
 * configuration never changes once loaded (common/state.h). */
bool dialer_may_defer(const struct conf *c);

/* Replace FD by SCRATCH (dup3, inside connect), copying the program's options
 * and flags from the old socket (of OLD_FAMILY); SCRATCH is closed, whether the
 * swap succeeds or not. 0 or errno. */
int dial_swap(int fd, int scratch, int old_family);

/* Note the buffer sizes of FD, a TCP socket just made and not yet touched: the
 * kernel's defaults, which dial_swap() does not copy. */
void dial_note_fresh(int fd);

#endif
