/* fakeshare: the fake-address table shared by every process of one user under
 * one configuration (dialshim.ini(5) FAKE ADDRESSES, state_dir), so a name one
 * process resolved can be connected to from any other.
 *
 * Promise: one file under state_dir ("fakes-v2-HASH": the layout's version, HASH
 * of the configuration's path and ranges), mode 600 in the checked directory,
 * mapped MAP_SHARED when the library loads (a child of fork keeps the mapping, so
 * a sandbox that forbids opening files later does not cut it off; no descriptor
 * stays open). Its layout and slot logic are common/fakeslot.h: lock-free, so no
 * lock is ever taken and a process killed at any point leaves the table usable
 * and consistent. A lookup, reverse or not, is memory accesses and atomics, no
 * system call; one new name in FAKESLOT_CHUNK also backs the next chunk of names
 * (madvise MADV_POPULATE_WRITE), so that a full file system refuses the name
 * (EAGAIN) instead of killing the program with SIGBUS on its first write. The
 * file is created whole (a temporary file of the final size, the pages every
 * reader may touch allocated, its header written, then linked into place: a
 * second creator finds it and uses it), so a reader never sees a half-made
 * header nor faults on a hole; a file whose header, size or version differ from
 * this build's and configuration's is never read (the caller keeps its own
 * table). The rest of the file is sparse. No hooked function is called.
 */
#ifndef DIALSHIM_FAKESHARE_H
#define DIALSHIM_FAKESHARE_H

#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Map the table of C (whose state_dir must be usable) for ranges BASE4 and
 * BASE6 with CAP[0] and CAP[1] slots, creating it when missing. 0, or an errno
 * (logged): then every table stays the process's own. */
int fakeshare_enable(const struct conf *c, const uint8_t base4[4], const uint8_t base6[16],
                     const uint32_t cap[2]);

/* Unmap it (only while no other thread uses the module: start-up, tests). */
void fakeshare_disable(void);

/* True while the table is mapped. */
bool fakeshare_on(void);

/* KEY's slot in FAMILY's table (a normalized name, H its fakeip_hash): see
 * fakeslot_get. ADD false only looks. */
int fakeshare_get(int family, const char *key, uint32_t h, bool add, uint32_t *slot, bool *added);

/* Slot I's name (fakeslot_name): lock-free, no system call; false without one. */
bool fakeshare_name(int family, uint32_t i, char *out, size_t cap);

/* For explain and check: whether the tables are shared, and where. */
void fakeshare_describe(const struct conf *c, char *out, size_t cap);

#endif
