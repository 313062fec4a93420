/* fakeshare: the fake-address tables' journal, shared by every process of one
 * user under one configuration (dialshim.ini(5) FAKE ADDRESSES, state_dir), so a
 * name one process resolved can be connected to from any other.
 *
 * Promise: one file per family under state_dir ("fake4-HASH", "fake6-HASH": HASH
 * of the configuration's path and ranges), mode 600 in the checked directory,
 * opened when the library loads (close-on-exec, at a high number; a child of
 * fork keeps them, so a sandbox that forbids opening files later does not cut
 * it off). Record I (FAKESHARE_REC bytes: the name's length, the name, zeros)
 * is the name of slot I of the family's range; records are only ever appended,
 * under an exclusive POSIX record lock (fcntl F_SETLKW: the process's, released
 * at its death, so no crashed process leaves the journal locked). Readers take
 * the shared lock. Threads of a process take turns on a mutex around it (the
 * lock belongs to the process, not the thread). Every failure is an errno; the caller then refuses
 * the name (never a second, diverging table). No hooked function is called.
 */
#ifndef DIALSHIM_FAKESHARE_H
#define DIALSHIM_FAKESHARE_H

#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKESHARE_REC 256

/* Use the journal of C (a state_dir must be usable), opening its files now.
 * Called by the library at load; without it every table stays the process's own. */
void fakeshare_enable(const struct conf *c);

/* True when fakeshare_enable ran and the journal has not failed to open. */
bool fakeshare_on(void);

/* Lock FAMILY's journal (EXCLUSIVE for appending) and give the count of its
 * complete records. 0, or an errno (the journal is then off: logged once). */
int fakeshare_lock(int family, bool exclusive, uint32_t *count);
void fakeshare_unlock(int family);

/* The count of complete records of FAMILY's journal, without the lock (for
 * reading only): records are only appended, each inside one page, and the kernel
 * moves the file's size past a record only once it is copied, so every record
 * below the size is whole. No lock call at all: a sandboxed process (a browser's
 * network process) may be killed for fcntl locks but may read. 0 or an errno. */
int fakeshare_peek(int family, uint32_t *count);

/* Under the lock, or below fakeshare_peek's count: record I's name into NAME
 * (FAKESHARE_REC bytes): 0, or EINVAL
 * for a record that holds no name (a hole, bad bytes). */
int fakeshare_read(int family, uint32_t i, char *name);
/* Under the exclusive lock: record I := NAME. 0 or an errno. */
int fakeshare_write(int family, uint32_t i, const char *name);

/* For explain and check: whether the tables are shared, and where. */
void fakeshare_describe(const struct conf *c, char *out, size_t cap);

void fakeshare_atfork_child(void);

#endif
