#include "common/strategy.h"

#include <stdbool.h>
#include <sys/socket.h>

static bool is_inet(int family)
{
    return family == AF_INET || family == AF_INET6;
}

static int other_family(int family)
{
    return family == AF_INET ? AF_INET6 : AF_INET;
}

static bool strategy_keeps(enum strategy s, int family)
{
    if (s == STRATEGY_IPV4_ONLY)
        return family == AF_INET;
    if (s == STRATEGY_IPV6_ONLY)
        return family == AF_INET6;
    return is_inet(family);
}

/* The family tried first. as_is has no preference of its own, so it takes the
 * resolver's: the family of the first usable address. */
static int first_family(enum strategy s, const struct dns_addr *in, size_t n)
{
    switch (s) {
    case STRATEGY_PREFER_IPV4:
    case STRATEGY_IPV4_ONLY:
        return AF_INET;
    case STRATEGY_PREFER_IPV6:
    case STRATEGY_IPV6_ONLY:
        return AF_INET6;
    default:
        break;
    }
    for (size_t i = 0; i < n; i++)
        if (is_inet(in[i].family))
            return in[i].family;
    return AF_INET;
}

/* Index of the next address of FAMILY at or after FROM, or N. */
static size_t next_of(const struct dns_addr *in, size_t n, int family, size_t from)
{
    while (from < n && in[from].family != family)
        from++;
    return from;
}

/* Appends every address of FAMILY to OUT starting at W; returns the new W. */
static size_t append_family(const struct dns_addr *in, size_t n, int family, struct dns_addr *out,
                            size_t cap, size_t w)
{
    for (size_t i = next_of(in, n, family, 0); i < n && w < cap; i = next_of(in, n, family, i + 1))
        out[w++] = in[i];
    return w;
}

size_t strategy_apply(enum strategy s, const struct dns_addr *in, size_t n, struct dns_addr *out,
                      size_t cap)
{
    size_t w = 0;

    if (s == STRATEGY_AS_IS || s == STRATEGY_UNSET) {
        for (size_t i = 0; i < n && w < cap; i++)
            if (is_inet(in[i].family))
                out[w++] = in[i];
        return w;
    }
    int first = first_family(s, in, n);
    w = append_family(in, n, first, out, cap, w);
    if (strategy_keeps(s, other_family(first)))
        w = append_family(in, n, other_family(first), out, cap, w);
    return w;
}

size_t strategy_happy_eyeballs(enum strategy s, const struct dns_addr *in, size_t n,
                               struct dns_addr *out, size_t cap)
{
    int fam[2] = {first_family(s, in, n), 0};
    fam[1] = other_family(fam[0]);
    bool keep[2] = {strategy_keeps(s, fam[0]), strategy_keeps(s, fam[1])};
    size_t cur[2] = {next_of(in, n, fam[0], 0), next_of(in, n, fam[1], 0)};
    size_t w = 0;

    /* Alternate one address of each family; once one runs out the other's
     * remaining addresses follow in order. */
    for (int turn = 0; w < cap; turn ^= 1) {
        bool more0 = keep[0] && cur[0] < n, more1 = keep[1] && cur[1] < n;
        if (!more0 && !more1)
            break;
        bool more = turn == 0 ? more0 : more1;
        if (!more)
            continue;
        out[w++] = in[cur[turn]];
        cur[turn] = next_of(in, n, fam[turn], cur[turn] + 1);
    }
    return w;
}

int strategy_query_family(enum strategy s, int family)
{
    int only = s == STRATEGY_IPV4_ONLY ? AF_INET : s == STRATEGY_IPV6_ONLY ? AF_INET6 : AF_UNSPEC;

    if (only == AF_UNSPEC)
        return family;
    if (family == AF_UNSPEC || family == only)
        return only;
    return -1;
}
