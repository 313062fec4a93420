/* fakeip: addresses that stand for names (dialshim.ini(5) FAKE ADDRESSES).
 *
 * Promise: one process-wide table per family maps a name to an address inside the
 * configured range and back. The whole range is used (up to FAKEIP_MAX_SLOTS
 * addresses a family; the network and last address never). The same name gets the
 * same address for as long as its entry lives. A new name takes the next address
 * never handed out; once every address was, the next one (in address order, from a
 * turning hand) that no socket is connected through (fakeip_pin_addr) and that was
 * not handed out or used within FAKEIP_QUARANTINE_S seconds. When there is none,
 * the name is refused with EAGAIN and a log line: an address a program may still
 * hold never comes to stand for someone else's host. Names seen in relayed
 * datagrams (fakeip_for_relayed_name) hold at most FAKEIP_RELAYED_MAX addresses.
 * Names are compared case-insensitively and without a trailing dot; the table
 * stores them lower case.
 *
 * The tables are allocated by the first name of their family, not before: a
 * process that never looks a name up pays nothing, and one that cannot get the
 * memory gets ENOMEM for that name (never "no range": that would let a caller
 * fall back to a real lookup).
 *
 * fakeip_is_fake*() are a range compare on data written once by fakeip_init():
 * no lock, no system call, safe on every connect. With the shared table
 * (fakeip_share) every call is lock-free. Otherwise everything else takes one
 * mutex and never does I/O or allocates while holding it (a full table's search
 * for a free address walks it once, then remembers when the next can come free).
 * Fork: register fakeip_atfork_prepare/parent/child with pthread_atfork, so the
 * child gets a consistent table and a usable lock.
 */
#ifndef DIALSHIM_FAKEIP_H
#define DIALSHIM_FAKEIP_H

#include "common/fakerange.h"
#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <stdint.h>

#define FAKEIP_MAX_SLOTS    (1u << 18) /* addresses a family: a /14 of IPv4, all of /15 */
#define FAKEIP_NAME_MAX     254        /* 253 characters and the NUL */
#define FAKEIP_QUARANTINE_S 600        /* an address handed out or used is kept this long */
#define FAKEIP_RELAYED_MAX  64         /* addresses held by names from relayed datagrams */

/* Set both ranges from C (C NULL: the defaults 198.18.0.0/15 and fc00::/18); the
 * tables come with the first name of each family. A range too small to hold one
 * usable address (IPv4 /31, /32) disables its family. Calling it again forgets
 * every mapping: only while no other thread uses the module (startup, tests).
 * Returns 0. */
int fakeip_init(const struct conf *c);

/* From now on the table shared under C's state_dir (common/fakeshare.h) is used
 * instead of the process's own: a name gets the address every process of the
 * user and configuration gives it, an address another process handed out is
 * found there, lock-free and without a system call, and no address is reused
 * (when the range is used up, EAGAIN; pins and quarantine are then moot). When
 * the table cannot be mapped (no usable directory, another layout in its file),
 * the tables stay the process's own (logged). */
void fakeip_share(const struct conf *c);

/* Release the tables; every function then behaves as if no range were configured. */
void fakeip_free(void);

/* Usable slots of FAMILY's table (0: family disabled). */
size_t fakeip_capacity(int family);

/* The fake address for NAME in FAMILY (AF_INET: writes a struct in_addr,
 * AF_INET6: a struct in6_addr, to OUT_ADDR). Returns 0, EINVAL for an empty,
 * overlong (> 253) name or one with spaces or control characters, EAFNOSUPPORT
 * when FAMILY has no usable range, ENOMEM (no table, no copy of the name), EAGAIN
 * when every address is pinned or in quarantine (logged). */
int fakeip_for_name(const char *name, int family, void *out_addr);
/* The same for a name a relayed datagram came from: EAGAIN also when such names
 * already hold FAKEIP_RELAYED_MAX addresses (logged at debug: one per datagram). */
int fakeip_for_relayed_name(const char *name, int family, void *out_addr);
/* Both, at NOW (seconds of a monotonic clock; fakeip_now() is the real one). */
int fakeip_for_name_at(const char *name, int family, bool relayed, uint32_t now, void *out_addr);
uint32_t fakeip_now(void);

/* A socket is connected through ADDR (struct in_addr / in6_addr, or mapped
 * IPv4): its slot is not reassigned until as many unpins. False when ADDR stands
 * for no name. */
bool fakeip_pin_addr(int family, const void *addr);
void fakeip_unpin_addr(int family, const void *addr);

/* fakeip_is_fake() and fakeip_is_fake_addr(): common/fakerange.h. */

/* The name a fake address stands for, copied into NAME (CAP bytes, truncated and
 * always terminated when CAP > 0; FAKEIP_NAME_MAX always suffices). False when the
 * address is not fake or its slot holds no name (never handed out, or recycled
 * away). A hit counts as a use (the quarantine starts again). O(1): the slot is
 * the address's offset in the range. */
bool fakeip_lookup(const struct sockaddr *sa, socklen_t len, char *name, size_t cap);
bool fakeip_lookup_addr(int family, const void *addr, char *name, size_t cap);
bool fakeip_lookup_addr_at(int family, const void *addr, uint32_t now, char *name, size_t cap);

/* pthread_atfork handlers: prepare takes the lock, parent releases it, child
 * re-creates it (the table itself stays valid in the child). */
void fakeip_atfork_prepare(void);
void fakeip_atfork_parent(void);
void fakeip_atfork_child(void);

#endif
