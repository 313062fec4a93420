/* fakeip_int: what the two files of the fake-address tables share: fakeip.c
 * (the process's tables) and fakeip_share.c (how they use the table shared
 * under state_dir). Not for other modules: they use common/fakeip.h.
 */
#ifndef DIALSHIM_FAKEIP_INT_H
#define DIALSHIM_FAKEIP_INT_H

#include "common/fakeip.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* One slot: the name its address stands for. The address is implicit in the
 * index (range base + 1 + index), which makes address -> name O(1). */
struct fake_entry {
    char *name;           /* NULL: free */
    uint32_t hash;        /* of name, so chain walks rarely compare strings */
    uint32_t next;        /* next slot in the same hash bucket, as a link (see below) */
    uint32_t stamp;       /* when it was last handed out or used (fakeip_now) */
    uint32_t pins : 31;   /* sockets connected through it: never reassigned */
    uint32_t relayed : 1; /* named by a relayed datagram, not by the program */
};

struct fake_table {
    int family;
    uint8_t base[16];  /* network address, host bits cleared */
    uint32_t cap;      /* usable slots */
    uint32_t used;     /* slots filled so far; below cap no reuse is needed */
    uint32_t hand;     /* where the search for a reusable slot starts */
    uint32_t nbuckets; /* power of two */
    uint32_t relayed;  /* slots held by relayed names */
    bool busy;         /* full, and nothing reusable before busy_until */
    uint32_t busy_until;
    /* Links are slot + 1, 0 = end: fresh zeroed memory is an empty table, so the
     * tables cost no page until a name lands in them (a memset to -1 of both
     * bucket arrays was a millisecond of page faults in the first lookup). */
    uint32_t *buckets;
    struct fake_entry *e;
};

extern pthread_mutex_t fakeip_lock;
extern bool fakeip_shared;

uint32_t fakeip_hash(const char *s);
int fakeip_normalize(const char *name, char *out);
int fakeip_table_memory(struct fake_table *t);
int32_t fakeip_find(const struct fake_table *t, const char *name, uint32_t h);
void fakeip_unlink(struct fake_table *t, int32_t i);
void fakeip_insert(struct fake_table *t, int32_t i, char *name, uint32_t h);
int32_t fakeip_slot_for(struct fake_table *t, const char *key, uint32_t h, char **copy,
                        bool relayed, uint32_t now, int *err);

/* Slot I's address (struct in_addr / in6_addr), and the slot of an address of
 * T's range (-1 when outside). */
void fakeip_slot_addr(const struct fake_table *t, uint32_t i, void *out);
int32_t fakeip_slot_index(const struct fake_table *t, const uint8_t *a);

/* Under the lock: the tables' bases (IPv4 in BASE4, IPv6 in BASE6) and slots. */
void fakeip_bases(uint8_t base4[4], uint8_t base6[16], uint32_t cap[2]);

/* fakeip_share.c, lock-free: KEY's address in the shared table (0, or EAGAIN,
 * logged); whether ADDR of T's range stands for a name there, copied into NAME
 * (CAP bytes; CAP 0: only whether); the end of sharing (fakeip_init, fakeip_free). */
int fakeip_shared_addr(const struct fake_table *t, const char *key, bool relayed, void *out);
bool fakeip_shared_name(const struct fake_table *t, const void *addr, char *name, size_t cap);
void fakeip_share_reset(void);

#endif
