/* fakeip: addresses that stand for names (dialshim.ini(5) FAKE ADDRESSES).
 *
 * Promise: one process-wide table per family maps a name to an address inside the
 * configured range and back. The same name gets the same address for as long as
 * its entry lives; a new name takes the next free slot and, once the table is full,
 * recycles the oldest entry not used since the recycling hand last passed it (a
 * clock: FIFO for names nobody asks for again). The network address and the last
 * address of a range are never handed out. Names are compared case-insensitively
 * and without a trailing dot; the table stores them lower case.
 *
 * fakeip_is_fake*() are a range compare on data written once by fakeip_init():
 * no lock, no system call, safe on every connect. Everything else takes one mutex
 * for a few hundred instructions and never does I/O while holding it.
 * Fork: register fakeip_atfork_prepare/parent/child with pthread_atfork, so the
 * child gets a consistent table and a usable lock.
 */
#ifndef DIALSHIM_FAKEIP_H
#define DIALSHIM_FAKEIP_H

#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define FAKEIP_MAX_ENTRIES 65536 /* per family, whatever the range's size */
#define FAKEIP_NAME_MAX    254   /* 253 characters and the NUL */

/* Size both tables from C's fake ranges (C NULL: the defaults 198.18.0.0/15 and
 * fc00::/18) and allocate them (the only allocation of the tables; names are
 * copied on insert). A range too small to hold one usable
 * address (IPv4 /31, /32) disables its family. Calling it again replaces the
 * tables and forgets every mapping: only while no other thread uses the module
 * (startup, tests). Returns 0 or ENOMEM (both families then disabled). */
int fakeip_init(const struct conf *c);

/* Release the tables; every function then behaves as if no range were configured. */
void fakeip_free(void);

/* Usable slots of FAMILY's table (0: family disabled). */
size_t fakeip_capacity(int family);

/* The fake address for NAME in FAMILY (AF_INET: writes a struct in_addr,
 * AF_INET6: a struct in6_addr, to OUT_ADDR). Returns 0, EINVAL for an empty,
 * overlong (> 253) name or one with spaces or control characters, EAFNOSUPPORT
 * when FAMILY has no usable range, ENOMEM. */
int fakeip_for_name(const char *name, int family, void *out_addr);

/* Whether the address is inside a fake range (including its unused slots, the
 * network and last address). SA may be AF_INET, AF_INET6 or an IPv4-mapped IPv6
 * address (::ffff:198.18.0.1). False for anything shorter than its family needs. */
bool fakeip_is_fake(const struct sockaddr *sa, socklen_t len);
/* The same for raw bytes: ADDR is a struct in_addr or struct in6_addr. */
bool fakeip_is_fake_addr(int family, const void *addr);

/* The name a fake address stands for, copied into NAME (CAP bytes, truncated and
 * always terminated when CAP > 0; FAKEIP_NAME_MAX always suffices). False when the
 * address is not fake or its slot holds no name (never handed out, or recycled
 * away). O(1): the slot is the address's offset in the range. */
bool fakeip_lookup(const struct sockaddr *sa, socklen_t len, char *name, size_t cap);
bool fakeip_lookup_addr(int family, const void *addr, char *name, size_t cap);

/* pthread_atfork handlers: prepare takes the lock, parent releases it, child
 * re-creates it (the table itself stays valid in the child). */
void fakeip_atfork_prepare(void);
void fakeip_atfork_parent(void);
void fakeip_atfork_child(void);

#endif
