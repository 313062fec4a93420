/* fakeshare: the fake-address tables' journal, shared by every process of one
 * user under one configuration (dialshim.ini(5) FAKE ADDRESSES, state_dir), so a
 * name one process resolved can be connected to from any other.
 *
 * Promise: one file per family under state_dir ("fake4-HASH", "fake6-HASH": HASH
 * of the configuration's path and ranges), mode 600 in the checked directory,
 * opened on first need (close-on-exec, at a high number; a child of fork opens
 * its own). Record I (FAKESHARE_REC bytes: the name's length, the name, zeros)
 * is the name of slot I of the family's range; records are only ever appended,
 * under an exclusive flock(2) that a process's death releases, so no crashed
 * process leaves the journal locked. Readers take the shared lock. Threads of a
 * process take turns on a mutex around the flock (the lock belongs to the open
 * file, not the thread). Every failure is an errno; the caller then refuses the
 * name (never a second, diverging table). No hooked function is called.
 */
#ifndef DIALSHIM_FAKESHARE_H
#define DIALSHIM_FAKESHARE_H

#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKESHARE_REC 256

/* Use the journal of C (a state_dir must be usable; it is checked on first
 * need). Called by the library at load; without it every table stays the
 * process's own. */
void fakeshare_enable(const struct conf *c);

/* True when fakeshare_enable ran and the journal has not failed to open. */
bool fakeshare_on(void);

/* Lock FAMILY's journal (EXCLUSIVE for appending) and give the count of its
 * complete records. 0, or an errno (the journal is then off: logged once). */
int fakeshare_lock(int family, bool exclusive, uint32_t *count);
void fakeshare_unlock(int family);

/* Under the lock: record I's name into NAME (FAKESHARE_REC bytes): 0, or EINVAL
 * for a record that holds no name (a hole, bad bytes). */
int fakeshare_read(int family, uint32_t i, char *name);
/* Under the exclusive lock: record I := NAME. 0 or an errno. */
int fakeshare_write(int family, uint32_t i, const char *name);

/* For explain and check: whether the tables are shared, and where. */
void fakeshare_describe(const struct conf *c, char *out, size_t cap);

void fakeshare_atfork_child(void);

#endif
