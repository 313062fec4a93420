/* group: a dialer that picks one of its members per connection (`type = group`,
 * dialshim.ini(5)), and the chain a dial takes once every group met on the way
 * (the dialer the route chose, a member, a detour) has picked its member.
 *
 * Promise: a member whose proxy failed is marked down for its group's down_for
 * and skipped while down; when every member is down they are tried anyway, in
 * order (the mark is a hint, never a reason to refuse). A failure a proxy reports
 * about the destination blames no member. Marks are shared by the process's
 * threads (relaxed atomics, no lock) and kept in the state directory
 * (common/statedir.h) when there is one: read once per process, at its first
 * group dial; written atomically when a mark is added; entries expire after a day.
 * round_robin's turn is shared by the user's processes through a page of the
 * state directory mapped MAP_SHARED (one atomic add per connection), else by the
 * process's threads.
 */
#ifndef DIALSHIM_DIALER_GROUP_H
#define DIALSHIM_DIALER_GROUP_H

#include "conf/conf.h"

#include <stdbool.h>

#define CHAIN_MAX 16

/* One dial's chain: the proxies from the nearest, the dialer whose options shape
 * the first connection, and the members the groups on the way picked. */
struct chain {
    int hops[CHAIN_MAX];
    int n;
    int maker; /* direct or block, or hops[0] when the first proxy dials its own server */
    int n_picks;
    struct {
        int group, member;
        int at; /* hops[0 .. n - 1 - at] are reached through this member */
    } picks[CHAIN_MAX];
};

/* The members one connect has already blamed: not picked again by it. */
struct tried {
    int n;
    int dialers[CHAIN_MAX];
};

/* The chain that ends in dialer LAST, groups resolved. TRIED: a dial's (it moves
 * round_robin's turn), or NULL for a look that changes nothing.
 * Returns the number of proxies (0: LAST leads to a direct or block dialer), -1
 * for a chain longer than CHAIN_MAX, -2 when a group has no member left to try. */
int chain_resolve(const struct conf *c, int last, struct chain *ch, const struct tried *tried);

/* The proxy at hops[FAULT] failed: mark the member of the innermost group that
 * reached it down and note it in TRIED. False when no group picked it (nothing to
 * fail over to). */
bool group_blame(const struct conf *c, const struct chain *ch, int fault, struct tried *tried);

/* Whether MEMBER is marked down now; *LEFT_MS gets how long it stays so. */
bool group_member_down(const struct conf *c, int member, long long *left_ms);

/* For `explain`: a line per group met on the way from dialer DI (its pick, its
 * members, which are down and for how long) into OUT (CAP bytes); "" when none. */
void group_explain(const struct conf *c, int di, char *out, size_t cap);

#endif
