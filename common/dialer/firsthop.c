/* firsthop: the connection to a detour chain's first proxy, on the program's own
 * descriptor (common/dialer/firsthop.h). */
#include "common/dialer/firsthop.h"

#include "common/addr.h"
#include "common/dialer/dialer.h"
#include "common/dialer/group.h"
#include "common/dialer/io.h"
#include "common/monotime.h"
#include "common/sockopt.h"
#include "common/sys.h"
#include "common/v4mapped.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first proxy's address as a sockaddr the program's socket family can use:
 * an IPv4 proxy from an IPv6 socket goes by its IPv4-mapped form. */
static bool server_addr_for(int family, const struct conf_server *s, struct sockaddr_storage *out,
                            socklen_t *len)
{
    const struct sockaddr *sa = &s->addr.u.sa;

    if (sa->sa_family == family) {
        memcpy(out, sa, s->addr.len);
        *len = s->addr.len;
        return true;
    }
    if (family == AF_INET6 && sa->sa_family == AF_INET) {
        v4mapped_sockaddr((struct sockaddr_in6 *)out, &s->addr.u.in4.sin_addr,
                          s->addr.u.in4.sin_port);
        *len = sizeof(struct sockaddr_in6);
        return true;
    }
    return false;
}

int firsthop_swap(struct dial *d, int family, int old_family)
{
    int proto = 0, scratch, err;
    socklen_t pl = sizeof(proto);

    sys.getsockopt(d->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
    scratch = sys.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (scratch < 0)
        return errno;
    if ((err = dial_swap(d->fd, scratch, old_family)))
        return err;
    /* It has the old one's flags: the program's (to be made non-blocking here), or
     * already non-blocking ones, D->fl the program's to put back. */
    if (!d->fl_changed)
        d->fl_known = false;
    return dial_nonblocking(d);
}

/* The first proxy given by name: its addresses from its own domain_resolver
 * (real ones, never fake; the resolver's TTL cache), raced Happy Eyeballs style
 * with MAKER's options. A name that does not resolve is the proxy's failure. */
static int connect_by_name(struct dial *d, int maker, int first, long long deadline,
                           bool *proxy_fault)
{
    const struct conf_dialer *p = &d->conf->dialers[first];
    struct dns_addr *addrs = malloc(CHAIN_MAX * sizeof(*addrs));
    long long left = deadline - monotime_ms();
    int n, saved = d->dialer, err;
    char why[160];

    if (!addrs) {
        dial_refuse(d, "no memory for the proxy's addresses");
        return ENOMEM;
    }
    *proxy_fault = true;
    n = resolve_name(d->conf, first, p->server.host, addrs, CHAIN_MAX, true, why, sizeof(why));
    if (n < 0) {
        snprintf(d->why, sizeof(d->why), "%s", why);
        free(addrs);
        return -n;
    }
    d->dialer = maker;
    err = happy_dial(d, addrs, n, p->server.port, left > 0 ? (uint32_t)left : 1);
    d->dialer = saved;
    free(addrs);
    return err;
}

/* D's socket is blocking, and its connect to SA can be made as the program would
 * make it, the watchdog ending it at DEADLINE (common/watchdog.h): no fcntl to
 * make the socket non-blocking and back, and the handshakes' replies are read
 * with blocking reads. A dial on a driver thread (it runs on a duplicate) and a
 * TCP Fast Open one (its first write would wait for the connection unbounded)
 * go the non-blocking way; so does any when no watchdog can run. Returns -1 for
 * those, else 0 or an errno with *SLOT armed (the detour disarms it), and
 * *IN_FLIGHT when the connect goes on (a signal interrupted it, or the socket
 * was non-blocking after all: the first hop's write waits for it). */
static int connect_watched(struct dial *d, int maker, const struct sockaddr *sa, socklen_t len,
                           long long deadline, bool *in_flight, int *slot)
{
    int err;

    if (!dial_known_blocking(d) || d->conf->dialers[maker].tcp_fast_open ||
        (*slot = io_watch(d->fd, deadline)) < 0)
        return -1;
    if (sys.connect(d->fd, sa, len) == 0)
        return 0;
    err = errno;
    if (err == EINPROGRESS || err == EALREADY || err == EINTR) {
        *in_flight = true;
        return 0;
    }
    return err;
}

int firsthop_connect(struct dial *d, int maker, int first_i, long long deadline, bool *proxy_fault,
                     bool *in_flight, int *slot)
{
    const struct conf *c = d->conf;
    const struct conf_dialer *first = &c->dialers[first_i];
    struct sockaddr_storage ss;
    socklen_t len;
    int family = d->sa->sa_family, err;

    if (c->dialers[maker].type == DIALER_BLOCK) {
        dial_refuse(d, "the chain's first hop is a block dialer");
        return ECONNREFUSED;
    }
    if (!first->server.addr.len)
        return connect_by_name(d, maker, first_i, deadline, proxy_fault);
    if (!server_addr_for(family, &first->server, &ss, &len)) {
        if ((err = firsthop_swap(d, first->server.addr.u.sa.sa_family, family)))
            return err;
        if (first->server.addr.u.sa.sa_family != family)
            d->swapped_family = first->server.addr.u.sa.sa_family;
        family = first->server.addr.u.sa.sa_family;
        server_addr_for(family, &first->server, &ss, &len);
    }
    if (!d->applied) {
        const char *opt = NULL;

        if ((err = sockopt_apply(&c->dialers[maker], d->fd, family, SOCK_STREAM, &opt))) {
            dial_refuse(d, opt);
            return err;
        }
        d->applied = true;
    }
    *proxy_fault = true;
    if ((err = connect_watched(d, maker, (struct sockaddr *)&ss, len, deadline, in_flight, slot)) >=
        0)
        return err;
    if ((err = dial_nonblocking(d)))
        return err;
    if (sys.connect(d->fd, (struct sockaddr *)&ss, len) == 0)
        return 0; /* loopback, or TCP Fast Open deferring the SYN to our first write */
    if (errno != EINPROGRESS)
        return errno;
    /* The first hop's first message waits for the connection (its send gets
     * EAGAIN until then, or the connect's error): a poll saved on a proxy on
     * loopback, whose connection is made before connect returns. */
    *in_flight = true;
    return 0;
}

int firsthop_renew(struct dial *d)
{
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    int family = AF_INET, err;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    /* Disconnecting keeps the program's socket: its bound address and port, its
     * options and its epoll registration. Only if the kernel refuses does a
     * fresh socket take its place. */
    if (sys.connect(d->fd, &unspec, sizeof(unspec)) == 0)
        return 0;
    if (sys.getsockname(d->fd, (struct sockaddr *)&ss, &len) == 0)
        family = ss.ss_family;
    if ((err = firsthop_swap(d, family, family)))
        return err;
    d->applied = false;
    return 0;
}

int firsthop_failed(struct dial *d, int first, int err)
{
    const struct conf_dialer *p = &d->conf->dialers[first];
    char was[200];

    snprintf(was, sizeof(was), "%.190s", d->why[0] ? d->why : strerror(err));
    snprintf(d->why, sizeof(d->why), "connecting to %s (%s:%u): %s", p->name, p->server.host,
             p->server.port, was);
    return err;
}
