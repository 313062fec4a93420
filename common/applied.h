/* applied: which dialer's socket options a program's socket carries, and whether
 * the dialer a new destination routes to may use it. Options are per socket, not
 * per destination: a socket that took one dialer's interface, mark or source
 * address and is then connected (a retry after ECONNREFUSED, after
 * connect(AF_UNSPEC)) or sent to (an unconnected datagram socket) elsewhere must
 * get the new dialer's options or be refused, never leave with the old ones.
 *
 * Promise: no allocation, no lock, no system call (applied_mark: one atomic
 * update of the fdtab word). The record lives in the fdtab word (FD_APPLIED and
 * FD_DIALER_MASK).
 */
#ifndef DIALSHIM_APPLIED_H
#define DIALSHIM_APPLIED_H

#include "common/fdtab.h"
#include "conf/conf.h"

#include <stdbool.h>
#include <stdint.h>

/* The dialer whose DefaultDialer options the program's socket takes when DIALER
 * dials it (itself when direct, the first hop of a proxy chain), or -1 when none
 * does (block, or a chain too long to dial). */
int applied_maker(const struct conf *c, int dialer);

/* What the socket whose fdtab word is FST needs before MAKER's dial:
 * APPLIED_READY (MAKER's options, or identical ones, are on), APPLIED_SET (set
 * MAKER's options now: none were set, or only another dialer's empty set), or
 * APPLIED_CLASH (another dialer's options are on and cannot be taken off: refuse
 * the call). */
enum applied_need { APPLIED_READY, APPLIED_SET, APPLIED_CLASH };
enum applied_need applied_need(const struct conf *c, uint32_t fst, int maker);

/* MAKER's options are now on FD. */
void applied_mark(int fd, int maker);

/* The fdtab bits that say MAKER's options are on a socket (FD_APPLIED and the dialer). */
uint32_t applied_bits(int maker);

/* Dialers A and B leave a socket exactly alike (both setting nothing, or the same
 * interface, mark, source addresses, ...; interfaces raced per attempt never). */
bool applied_same(const struct conf *c, int a, int b);

/* DIALER sets nothing on a socket: a call the shim cannot see (an io_uring
 * connect) loses nothing by going its way. */
bool applied_none(const struct conf *c, int dialer);

/* The dialer recorded in FST, or -1. */
static inline int applied_dialer(uint32_t fst)
{
    return (int)((fst & FD_DIALER_MASK) >> FD_DIALER_SHIFT) - 1;
}

#endif
