/* fakeslot: the shared fake-address table's layout and its lock-free slot logic,
 * on memory only (common/fakeshare.c maps the file; unit tests map anonymous
 * shared memory). Pure: no system call (but the view's grow), no allocation, no
 * lock.
 *
 * Promise: one region holds a header (FAKESLOT_HEAD bytes: magic, version, the
 * layout, per family its base address, capacity and counters) and per family
 * three arrays: an index of 2^k uint32 (k: the smallest with 2^k >= 2 x capacity,
 * so open addressing stays at most half full) mapping a name's hash to slot + 1,
 * the slots' metadata (a state word and the name's hash) and the slots' names
 * (FAKESLOT_NAME bytes each, NUL-terminated). Slot I is the address base + 1 + I,
 * so address -> name is a direct index. The index and the metadata must have
 * pages from the start (fakeslot_eager); names get theirs by chunks, before the
 * first slot of a chunk is written (the view's grow; a failure refuses the name).
 *
 * A name is added by taking a slot nobody references (a counter moved by
 * compare-and-swap, or the stack of slots given back), filling it, publishing it
 * (release) and then claiming the first empty index entry of the name's probe
 * sequence with compare-and-swap. Losing that entry to the same name gives the
 * slot back and answers the winner's: every process and thread gets one address
 * per name. A slot the index references is never written again: the table never
 * reassigns an address while the file lives (the quarantine and pins of the
 * per-process table are moot: no address ever comes to stand for another name).
 * A process that dies at any point leaves no lock and nothing half-visible: at
 * worst one slot it took and never published stays unused. Readers of a slot by
 * address check its state word before and after copying the name (a slot given
 * back may be refilled; its address was never handed out).
 */
#ifndef DIALSHIM_FAKESLOT_H
#define DIALSHIM_FAKESLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKESLOT_VERSION 2
#define FAKESLOT_HEAD    4096u
#define FAKESLOT_NAME    256u
#define FAKESLOT_CHUNK   256u  /* slots whose names are backed at once (64 KiB) */
#define FAKESLOT_CHUNKS  1024u /* flags a family: FAKEIP_MAX_SLOTS / FAKESLOT_CHUNK */

/* One family's part of the header; the counters are changed with atomics only. */
struct fakeslot_family {
    uint8_t base[16]; /* the range's network address (IPv4 in the first 4 bytes) */
    uint32_t cap;     /* slots (addresses base + 1 .. base + cap) */
    uint32_t nindex;  /* index entries, a power of two */
    uint64_t index_off, meta_off, names_off;
    uint32_t next; /* slots taken from the never-used end so far */
    uint32_t pad;
    uint64_t free_head;                  /* slots given back: (tag << 32) | (slot + 1) */
    uint8_t backed[FAKESLOT_CHUNKS / 8]; /* bit I: chunk I's names have pages (grow) */
};

struct fakeslot_head {
    char magic[16]; /* "dialshim fakes" */
    uint32_t version, head_size;
    uint64_t size;                 /* of the whole region */
    struct fakeslot_family fam[2]; /* IPv4, IPv6 */
};

struct fakeslot_meta {
    uint32_t state;     /* generation << 1 | 1 while it holds a published name */
    uint32_t hash;      /* of the name */
    uint32_t next_free; /* on the stack of slots given back: the next, + 1 */
};

/* A process's view of one family's part of a mapped region. */
struct fakeslot_view {
    struct fakeslot_family *f;
    uint32_t *index;
    struct fakeslot_meta *meta;
    char (*names)[FAKESLOT_NAME];
    uint32_t cap, mask;
    /* Back LEN bytes at ADDR with pages before they are first written: 0, or
     * an errno (the name is refused). NULL: memory that is always backed. */
    int (*grow)(void *addr, size_t len);
};

/* Fill H for a region holding CAP[0] IPv4 slots above BASE4 and CAP[1] IPv6 slots
 * above BASE6 (a capacity 0 holds no arrays; at most FAKESLOT_CHUNKS *
 * FAKESLOT_CHUNK slots). Returns the region's size. */
size_t fakeslot_layout(struct fakeslot_head *h, const uint8_t base4[4], const uint8_t base6[16],
                       const uint32_t cap[2]);

/* The bytes of family FAM that must have pages before any reader comes (the
 * index and the metadata, read anywhere, and the first chunk of names): *OFF
 * and *LEN (0 for none). Marks that chunk backed in H: the creator backs them. */
void fakeslot_eager(struct fakeslot_head *h, int fam, uint64_t *off, uint64_t *len);

/* Whether the region at MAP (SIZE bytes) has exactly the layout EXPECT describes
 * (another version or configuration is never read). */
bool fakeslot_matches(const void *map, size_t size, const struct fakeslot_head *expect);

/* The view of family FAM (0: IPv4, 1: IPv6) of the region at MAP. */
void fakeslot_view(void *map, int fam, struct fakeslot_view *v);

/* The slot of KEY (a normalized name, hash H): 0 with *SLOT (and *ADDED when this
 * call put it there), ENOENT when it is absent and ADD is false, EAGAIN when it is
 * absent and no slot is left, EINVAL for a name that does not fit. */
int fakeslot_get(const struct fakeslot_view *v, const char *key, uint32_t h, bool add,
                 uint32_t *slot, bool *added);

/* Slot I's name into OUT (CAP bytes, truncated, terminated): false when it holds
 * none. Lock-free, no system call. */
bool fakeslot_name(const struct fakeslot_view *v, uint32_t i, char *out, size_t cap);

#endif
