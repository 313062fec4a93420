/* ownfd: the shim's own long-lived descriptors (the log file, the control
 * connections of SOCKS5 UDP associations), kept out of the program's way.
 *
 * A program may close every descriptor it did not open (closefrom(3), close_range,
 * a loop of close) and then open files, which take the lowest free numbers: the
 * shim's log lines would land in the program's file, and a later cleanup would
 * close whatever holds the old number then. So each such descriptor lives at a
 * high number (F_DUPFD_CLOEXEC from OWNFD_FLOOR, or half the descriptor limit
 * when that is lower), its device and inode are remembered, and the close hooks
 * move it elsewhere before the program's close of that number goes ahead.
 *
 * Promise: ownfd_adopt() registers *WHERE (the owner's variable holding the
 * number) and may change it; the hooks keep *WHERE naming the same open file
 * while the program closes, dup2s onto or range-closes its number; ownfd_check()
 * says whether *WHERE still names it (a raw system call the hooks never saw may
 * have closed it), and an owner uses or closes the number only then. Nothing is
 * done, and nothing costs more than one load, while no descriptor is registered;
 * a vfork child's close of a registered number moves nothing (common/owner.h).
 */
#ifndef DIALSHIM_OWNFD_H
#define DIALSHIM_OWNFD_H

#include <stdbool.h>

#define OWNFD_FLOOR 1000

/* Move *WHERE to a high number (close-on-exec) and register it. Keeps the old
 * number when no high one can be had. */
void ownfd_adopt(int *where);

/* A copy of FD at a high number (OWNFD_FLOOR, or half the limit), close-on-exec,
 * not registered: -1 with errno when none. */
int ownfd_high_copy(int fd);

/* Forget *WHERE (before the owner closes it or frees the variable). */
void ownfd_release(int *where);

/* True when *WHERE still names the file it named when adopted. */
bool ownfd_check(const int *where);

/* Close *WHERE when it still names its file (or was never registered), forget
 * it, and set it to -1. */
void ownfd_close(int *where);

/* How many descriptors are registered (a relaxed load: for the hooks' fast path). */
int ownfd_count(void);

/* The program is about to close FD (close, dup2/dup3 onto it): when it is one of
 * ours, ours moves to another number first. */
void ownfd_evict(int fd);

/* close_range(2) without closing ours, nor the N_ALSO numbers of ALSO (other
 * descriptors of the shim's, unregistered: common/pending_own.c): the real
 * close_range on each stretch of FIRST..LAST between them. Returns like
 * close_range. */
int ownfd_close_range(unsigned first, unsigned last, int flags, const int *also, int n_also);

/* True when one of ours lies in FIRST..LAST. */
bool ownfd_in_range(unsigned first, unsigned last);

#endif
