#include "common/applied.h"
#include "common/hotpath.h"

#include "common/dialer/dialer.h"
#include "common/fdtab.h"
#include "common/sockopt.h"

#include <string.h>

HOT_PATH int applied_maker(const struct conf *c, int dialer)
{
    int hops[16], maker = -1;

    if (dialer < 0 || dialer >= c->n_dialers || c->dialers[dialer].type == DIALER_BLOCK)
        return -1;
    if (c->dialers[dialer].type == DIALER_DIRECT)
        return dialer;
    if (detour_chain(c, dialer, hops, &maker) < 0)
        return -1;
    return maker >= 0 && c->dialers[maker].type != DIALER_BLOCK ? maker : -1;
}

/* The dialer sets nothing on the socket (interfaces raced per attempt count as set). */
HOT_PATH static bool sets_nothing(const struct conf_dialer *d)
{
    return sockopt_none(d) && !parallel_wanted(d);
}

/* Both dialers leave the socket exactly alike. */
static bool same_options(const struct conf_dialer *a, const struct conf_dialer *b)
{
    if (sets_nothing(a) || sets_nothing(b))
        return sets_nothing(a) && sets_nothing(b);
    return !parallel_wanted(a) && !parallel_wanted(b) &&
           strcmp(a->bind_interface, b->bind_interface) == 0 &&
           a->has_inet4_bind == b->has_inet4_bind &&
           (!a->has_inet4_bind || a->inet4_bind.s_addr == b->inet4_bind.s_addr) &&
           a->has_inet6_bind == b->has_inet6_bind &&
           (!a->has_inet6_bind || memcmp(&a->inet6_bind, &b->inet6_bind, 16) == 0) &&
           a->bind_address_no_port == b->bind_address_no_port &&
           strcmp(a->protect_path, b->protect_path) == 0 && a->has_mark == b->has_mark &&
           (!a->has_mark || a->routing_mark == b->routing_mark) && a->reuse_addr == b->reuse_addr &&
           a->tcp_fast_open == b->tcp_fast_open && a->udp_fragment == b->udp_fragment &&
           a->tcp_keep_alive_ms == b->tcp_keep_alive_ms &&
           a->tcp_keep_alive_interval_ms == b->tcp_keep_alive_interval_ms &&
           a->disable_tcp_keep_alive == b->disable_tcp_keep_alive &&
           a->ip_transparent == b->ip_transparent && strcmp(a->netns, b->netns) == 0;
}

HOT_PATH enum applied_need applied_need(const struct conf *c, uint32_t fst, int maker)
{
    int had = applied_dialer(fst);

    if (had < 0 || had >= c->n_dialers)
        /* FD_APPLIED without a dialer: an index too large to record; nothing to compare */
        return (fst & FD_APPLIED) ? APPLIED_CLASH : APPLIED_SET;
    if (had == maker || same_options(&c->dialers[had], &c->dialers[maker]))
        return (fst & FD_APPLIED) ? APPLIED_READY : APPLIED_SET;
    return sets_nothing(&c->dialers[had]) ? APPLIED_SET : APPLIED_CLASH;
}

HOT_PATH uint32_t applied_bits(int maker)
{
    /* an index too large to record: FD_APPLIED alone, which clashes with any other dialer */
    return FD_APPLIED |
           (maker >= 0 && maker < 0xfff ? (uint32_t)(maker + 1) << FD_DIALER_SHIFT : 0);
}

HOT_PATH void applied_mark(int fd, int maker)
{
    fdtab_update(fd, FD_DIALER_MASK, applied_bits(maker));
}

bool applied_none(const struct conf *c, int dialer)
{
    return sets_nothing(&c->dialers[dialer]);
}

bool applied_same(const struct conf *c, int a, int b)
{
    return a == b || same_options(&c->dialers[a], &c->dialers[b]);
}
