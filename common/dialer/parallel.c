/* Happy Eyeballs (RFC 8305) and the interface strategies: race a name's
 * addresses, or one address over several interfaces, for a program that would
 * have tried one at a time.
 *
 * Attempts start in the given order (families already interleaved by the
 * strategy), a new one every fallback_delay or at once when the previous one
 * fails; the first to connect wins and the rest are closed. The program's own
 * socket is one of the racers, so a race it wins needs no descriptor swap; when a
 * scratch socket wins, it is dup3'd over the program's descriptor before connect
 * returns (docs/architecture.md "connect"). One deadline bounds the whole race. */
#include "common/dialer/dialer.h"

#include "common/log.h"
#include "common/sockopt.h"
#include "common/sys.h"
#include "common/v4mapped.h"
#include "common/hotpath.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_RACERS 16

struct racer {
    int fd;
    bool own; /* the program's descriptor */
    struct sockaddr_storage ss;
    socklen_t len;
};

/* One attempt: an address, the interface to leave by (NULL: the dialer's own),
 * how long to wait before the next attempt while this one is in flight, and the
 * earliest moment it may start (the fallback interfaces' delay). Times are in
 * microseconds: a millisecond clock and poll's millisecond timeout started each
 * fallback up to a millisecond late. */
struct attempt {
    const struct dns_addr *addr;
    const char *ifname;
    long long pace_us;
    long long not_before;
};

/* ADDR as a sockaddr for a socket of FAMILY (IPv4 through an IPv6 socket goes
 * IPv4-mapped); false when that socket cannot reach it. */
static bool sockaddr_for(int family, const struct dns_addr *a, uint16_t port,
                         struct sockaddr_storage *ss, socklen_t *len)
{
    if (a->family == family) {
        *len = dns_addr_to_sockaddr(a, port, ss);
        return true;
    }
    if (family == AF_INET6 && a->family == AF_INET) {
        v4mapped_sockaddr((struct sockaddr_in6 *)ss, a->addr, htons(port));
        *len = sizeof(struct sockaddr_in6);
        return true;
    }
    return false;
}

static int socket_family(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    return sys.getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? ss.ss_family : AF_UNSPEC;
}

static bool v6only(int fd)
{
    int v = 0;
    socklen_t len = sizeof(v);

    return sys.getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len) == 0 && v;
}

/* Open (or reuse the program's socket for) one attempt and start its connect.
 * Returns 0 (in flight or connected: *DONE says which) or an errno. */
static int start(struct dial *d, struct racer *r, const struct attempt *at, uint16_t port,
                 int own_family, bool *own_free, bool *done)
{
    const struct dns_addr *a = at->addr;
    const struct conf_dialer *cd = &d->conf->dialers[d->dialer];
    int family = a->family, err;
    const char *failed = NULL;

    *done = false;
    if (*own_free && (own_family == a->family ||
                      (own_family == AF_INET6 && a->family == AF_INET && !v6only(d->fd)))) {
        r->fd = d->fd;
        r->own = true;
        family = own_family;
        *own_free = false;
    } else {
        int proto = 0;
        socklen_t pl = sizeof(proto);
        sys.getsockopt(d->fd, SOL_SOCKET, SO_PROTOCOL, &proto, &pl);
        r->fd = sys.socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
        r->own = false;
        if (r->fd < 0)
            return errno;
        dial_note_fresh(r->fd);
    }
    sockaddr_for(family, a, port, &r->ss, &r->len);
    if (!r->own || !d->applied) {
        err = sockopt_apply(cd, r->fd, a->family, SOCK_STREAM, &failed);
        if (err) {
            dial_refuse(d, failed);
            return err;
        }
        if (r->own)
            d->applied = true;
    }
    if (at->ifname &&
        sys.setsockopt(r->fd, SOL_SOCKET, SO_BINDTODEVICE, at->ifname, strlen(at->ifname) + 1) < 0)
        return errno; /* a missing or unusable interface: the next attempt starts */
    if (sys.connect(r->fd, (struct sockaddr *)&r->ss, r->len) == 0) {
        *done = true;
        return 0;
    }
    return errno == EINPROGRESS ? 0 : errno;
}

static void drop(struct racer *r)
{
    if (r->fd < 0)
        return;
    if (r->own) {
        /* Abort the program's pending handshake: it lost the race. */
        struct sockaddr unspec = {.sa_family = AF_UNSPEC};
        sys.connect(r->fd, &unspec, sizeof(unspec));
    } else {
        sys.close(r->fd);
    }
    r->fd = -1;
}

/* The winner becomes the program's connected socket. */
static int crown(struct dial *d, struct racer *rs, int n, int w, int own_family)
{
    for (int i = 0; i < n; i++)
        if (i != w)
            drop(&rs[i]);
    if (rs[w].own)
        return 0;
    int err = dial_swap(d->fd, rs[w].fd, own_family);
    if (!err && rs[w].ss.ss_family != own_family)
        d->swapped_family = rs[w].ss.ss_family;
    return err;
}

static int settle(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (sys.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

static int race(struct dial *d, struct racer *rs, const struct attempt *at, int n, uint16_t port,
                long long deadline, int own_family)
{
    struct pollfd pf[MAX_RACERS];
    int started = 0, live = 0, last_err = ETIMEDOUT;
    bool own_free = true;
    long long next_at = 0;

    for (int i = 0; i < n; i++)
        rs[i].fd = -1;
    for (;;) {
        long long now = dial_now_us(), wait;
        int np = 0, idx[MAX_RACERS];

        if (now >= deadline)
            break;
        /* With nothing in flight the next attempt starts at once, even early. */
        if (started < n && (live == 0 || (now >= next_at && now >= at[started].not_before))) {
            bool done;
            int i = started++;
            int err = start(d, &rs[i], &at[i], port, own_family, &own_free, &done);
            if (!err && done)
                return crown(d, rs, started, i, own_family);
            if (err) {
                last_err = err;
                drop(&rs[i]);
                if (d->warn)
                    break; /* the kernel refused an option: no address will do better */
                continue;  /* a failure starts the next attempt at once */
            }
            live++;
            next_at = now + at[i].pace_us;
        }
        if (live == 0 && started >= n)
            break;
        for (int i = 0; i < started; i++) {
            if (rs[i].fd >= 0) {
                pf[np] = (struct pollfd){.fd = rs[i].fd, .events = POLLOUT};
                idx[np++] = i;
            }
        }
        wait = deadline - now;
        if (started < n) {
            long long when = next_at > at[started].not_before ? next_at : at[started].not_before;
            if (when - now < wait)
                wait = when - now;
        }
        if (wait < 0)
            wait = 0;
        struct timespec ts = {wait / 1000000, wait % 1000000 * 1000};
        if (sys.ppoll(pf, np, &ts, NULL) < 0 && errno != EINTR) {
            last_err = errno;
            break; /* the racers in flight are closed below, not left behind */
        }
        for (int k = 0; k < np; k++) {
            int i = idx[k], err;
            if (!pf[k].revents)
                continue;
            err = settle(rs[i].fd);
            if (!err)
                return crown(d, rs, started, i, own_family);
            last_err = err;
            drop(&rs[i]);
            live--;
            next_at = 0; /* the next attempt starts now */
        }
    }
    for (int i = 0; i < started; i++)
        drop(&rs[i]);
    return last_err;
}

/* "wifi", "cellular", "ethernet": the interfaces of that kind, from sysfs. */
static bool iface_is(const char *ifname, const char *kind)
{
    char path[128], buf[512];
    struct stat st;
    FILE *f;
    bool wwan = false;

    snprintf(path, sizeof(path), "/sys/class/net/%s/uevent", ifname);
    if ((f = fopen(path, "re"))) {
        while (fgets(buf, sizeof(buf), f))
            wwan |= strncmp(buf, "DEVTYPE=wwan", 12) == 0;
        fclose(f);
    }
    wwan |= strncmp(ifname, "wwan", 4) == 0 || strncmp(ifname, "rmnet", 5) == 0;
    snprintf(path, sizeof(path), "/sys/class/net/%s/wireless", ifname);
    bool wifi = stat(path, &st) == 0;
    snprintf(path, sizeof(path), "/sys/class/net/%s/phy80211", ifname);
    wifi |= stat(path, &st) == 0;
    if (!strcmp(kind, "wifi"))
        return wifi;
    if (!strcmp(kind, "cellular"))
        return wwan;
    snprintf(path, sizeof(path), "/sys/class/net/%s/device", ifname);
    return !wifi && !wwan && stat(path, &st) == 0; /* a physical wired NIC */
}

/* Expand a network_type list (names, or kinds) into interface names. */
static int expand_ifaces(const char (*list)[IF_NAMESIZE], int n, char (*out)[IF_NAMESIZE], int cap)
{
    int k = 0;

    for (int i = 0; i < n && k < cap; i++) {
        if (strcmp(list[i], "wifi") && strcmp(list[i], "cellular") && strcmp(list[i], "ethernet")) {
            snprintf(out[k++], IF_NAMESIZE, "%s", list[i]);
            continue;
        }
        struct if_nameindex *all = if_nameindex(), *it;
        for (it = all; it && it->if_index && k < cap; it++)
            if (iface_is(it->if_name, list[i]))
                snprintf(out[k++], IF_NAMESIZE, "%s", it->if_name);
        if (all)
            if_freenameindex(all);
    }
    return k;
}

/* The attempt list: addresses in Happy Eyeballs order, each over the preferred
 * interfaces, then (fallback, after fallback_delay) over the fallback ones;
 * hybrid races every interface of an address at once. */
static int plan(const struct conf_dialer *cd, const struct dns_addr *addrs, int n,
                char (*ifs)[IF_NAMESIZE], struct attempt *at, long long t0)
{
    char(*fb)[IF_NAMESIZE] = ifs + CONF_LIST_MAX;
    int ni = expand_ifaces(cd->network_type, cd->n_network_type, ifs, CONF_LIST_MAX);
    int nf =
        expand_ifaces(cd->fallback_network_type, cd->n_fallback_network_type, fb, CONF_LIST_MAX);
    long long delay = (cd->fallback_delay_ms < 10 ? 10 : cd->fallback_delay_ms) * 1000LL; /* us */
    bool hybrid = cd->network_strategy == NETSTRAT_HYBRID;
    int k = 0;

    if (ni == 0 && nf == 0) {
        for (int i = 0; i < n && k < MAX_RACERS; i++)
            at[k++] = (struct attempt){&addrs[i], NULL, delay, 0};
        return k;
    }
    if (cd->network_strategy == NETSTRAT_DEFAULT) {
        /* the listed interfaces, in order, as one sequence */
        for (int j = 0; j < nf && ni < CONF_LIST_MAX; j++)
            snprintf(ifs[ni++], IF_NAMESIZE, "%s", fb[j]);
        nf = 0;
    }
    if (hybrid) {
        for (int j = 0; j < nf && ni < CONF_LIST_MAX; j++)
            snprintf(ifs[ni++], IF_NAMESIZE, "%s", fb[j]);
        nf = 0;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < ni && k < MAX_RACERS; j++)
            at[k++] = (struct attempt){&addrs[i], ifs[j], hybrid && j + 1 < ni ? 0 : delay, 0};
    for (int i = 0; i < n; i++)
        for (int j = 0; j < nf && k < MAX_RACERS; j++)
            at[k++] = (struct attempt){&addrs[i], fb[j], delay, t0 + delay};
    return k;
}

HOT_PATH bool parallel_wanted(const struct conf_dialer *cd)
{
    return cd->network_strategy != NETSTRAT_DEFAULT || cd->n_network_type ||
           cd->n_fallback_network_type;
}

int happy_dial(struct dial *d, const struct dns_addr *addrs, int n, uint16_t port,
               uint32_t timeout_ms)
{
    int own_family = socket_family(d->fd), flags = sys.fcntl(d->fd, F_GETFL), err;
    long long deadline;

    if (n <= 0)
        return EHOSTUNREACH;
    if (n > MAX_RACERS)
        n = MAX_RACERS;
    if (flags < 0)
        return errno;
    /* TCP Fast Open connects "succeed" before any packet: nothing to race. */
    if (d->conf->dialers[d->dialer].tcp_fast_open)
        n = 1;
    /* The plan and the racers (3 KiB) on the heap: the program's thread may have
     * a 16 KiB stack. */
    struct race_mem {
        struct attempt at[MAX_RACERS];
        char ifs[2 * CONF_LIST_MAX][IF_NAMESIZE];
        struct racer rs[MAX_RACERS];
    } *m = malloc(sizeof(*m));
    if (!m) {
        dial_refuse(d, "no memory for the connection race");
        return ENOMEM;
    }
    long long t0 = dial_now_us();
    int na = plan(&d->conf->dialers[d->dialer], addrs, n, m->ifs, m->at, t0);

    deadline = t0 + (timeout_ms ? timeout_ms : 75000) * 1000LL;
    sys.fcntl(d->fd, F_SETFL, flags | O_NONBLOCK);
    err = race(d, m->rs, m->at, na, port, deadline, own_family);
    free(m);
    sys.fcntl(d->fd, F_SETFL, flags);
    return err;
}
