#include "common/fakeslot.h"

#include <errno.h>
#include <string.h>

#define MAGIC "dialshim fakes"

_Static_assert(sizeof(struct fakeslot_head) <= FAKESLOT_HEAD, "the header fits its page");

/* GCC's atomics on the mapped words: seq_cst where a compare-and-swap orders a
 * publication, acquire/release elsewhere. */
#define LOAD(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define CAS(p, old, v)                                                                             \
    __atomic_compare_exchange_n((p), (old), (v), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
/* The seqlock's fences around a slot's bytes. ThreadSanitizer does not model
 * fences (GCC refuses them under -fsanitize=thread): there a read-modify-write of
 * the slot's own state word, adding nothing, gives the same order in a form it
 * understands (a full barrier on that word; the mapping is always writable). */
#ifdef __SANITIZE_THREAD__
#define SEQ_FENCE(m, order) ((void)__atomic_fetch_add(&(m)->state, 0, __ATOMIC_ACQ_REL))
#else
#define SEQ_FENCE(m, order) __atomic_thread_fence(order)
#endif

static uint64_t round_up(uint64_t n, uint64_t to)
{
    return (n + to - 1) / to * to;
}

size_t fakeslot_layout(struct fakeslot_head *h, const uint8_t base4[4], const uint8_t base6[16],
                       const uint32_t cap[2])
{
    uint64_t off = FAKESLOT_HEAD;

    memset(h, 0, sizeof(*h));
    memcpy(h->magic, MAGIC, sizeof(MAGIC));
    h->version = FAKESLOT_VERSION;
    h->head_size = FAKESLOT_HEAD;
    memcpy(h->fam[0].base, base4, 4);
    memcpy(h->fam[1].base, base6, 16);
    for (int k = 0; k < 2; k++) {
        struct fakeslot_family *f = &h->fam[k];
        f->cap =
            cap[k] < FAKESLOT_CHUNKS * FAKESLOT_CHUNK ? cap[k] : FAKESLOT_CHUNKS * FAKESLOT_CHUNK;
        f->nindex = 0;
        if (cap[k] == 0)
            continue;
        f->nindex = 1;
        while (f->nindex < 2 * (uint64_t)f->cap)
            f->nindex <<= 1;
        /* each array on its own pages: the index and the metadata stay dense */
        f->index_off = off;
        off = round_up(off + (uint64_t)f->nindex * 4, 4096);
        f->meta_off = off;
        off = round_up(off + (uint64_t)f->cap * sizeof(struct fakeslot_meta), 4096);
        f->names_off = off;
        off = round_up(off + (uint64_t)f->cap * FAKESLOT_NAME, 4096);
    }
    h->size = off;
    return (size_t)off;
}

void fakeslot_eager(struct fakeslot_head *h, int fam, uint64_t *off, uint64_t *len)
{
    struct fakeslot_family *f = &h->fam[fam];
    uint32_t first = f->cap < FAKESLOT_CHUNK ? f->cap : FAKESLOT_CHUNK;

    *off = f->index_off;
    *len = f->cap ? f->names_off + (uint64_t)first * FAKESLOT_NAME - f->index_off : 0;
    if (f->cap)
        f->backed[0] = 1; /* chunk 0 */
}

bool fakeslot_matches(const void *map, size_t size, const struct fakeslot_head *expect)
{
    const struct fakeslot_head *h = map;

    if (size < FAKESLOT_HEAD || size != expect->size || h->size != expect->size ||
        memcmp(h->magic, expect->magic, sizeof(h->magic)) != 0 || h->version != expect->version ||
        h->head_size != expect->head_size)
        return false;
    for (int k = 0; k < 2; k++) {
        const struct fakeslot_family *a = &h->fam[k], *b = &expect->fam[k];
        if (memcmp(a->base, b->base, sizeof(a->base)) != 0 || a->cap != b->cap ||
            a->nindex != b->nindex || a->index_off != b->index_off || a->meta_off != b->meta_off ||
            a->names_off != b->names_off)
            return false;
    }
    return true;
}

void fakeslot_view(void *map, int fam, struct fakeslot_view *v)
{
    struct fakeslot_head *h = map;
    struct fakeslot_family *f = &h->fam[fam];

    v->f = f;
    v->cap = f->cap;
    v->mask = f->nindex ? f->nindex - 1 : 0;
    v->index = (uint32_t *)((char *)map + f->index_off);
    v->meta = (struct fakeslot_meta *)((char *)map + f->meta_off);
    v->names = (char(*)[FAKESLOT_NAME])((char *)map + f->names_off);
    v->grow = NULL;
}

/* The index position a hash starts probing at: FNV's low bits are weak alone. */
static uint32_t home(const struct fakeslot_view *v, uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h & v->mask;
}

/* ---- slots nobody references ---- */

static void give_back(const struct fakeslot_view *v, uint32_t i)
{
    struct fakeslot_meta *m = &v->meta[i];
    uint64_t old = LOAD(&v->f->free_head), new;

    /* a new generation, not ready: a reader by address sees the name change */
    STORE(&m->state, ((LOAD(&m->state) >> 1) + 1) << 1);
    do {
        STORE(&m->next_free, (uint32_t)old);
        new = (((old >> 32) + 1) << 32) | (i + 1);
    } while (!CAS(&v->f->free_head, &old, new));
}

/* A slot nobody references, or false when none is left. The tag in free_head
 * makes a pop that raced another pop and push fail its compare-and-swap. */
static bool take(const struct fakeslot_view *v, uint32_t *i)
{
    uint64_t old = LOAD(&v->f->free_head), new;
    uint32_t n;

    while ((uint32_t)old != 0) {
        uint32_t top = (uint32_t)old - 1;
        if (top >= v->cap)
            break; /* not ours to trust */
        new = (((old >> 32) + 1) << 32) | LOAD(&v->meta[top].next_free);
        if (CAS(&v->f->free_head, &old, new)) {
            *i = top;
            return true;
        }
    }
    n = LOAD(&v->f->next);
    while (n < v->cap)
        if (CAS(&v->f->next, &n, n + 1)) {
            *i = n;
            return true;
        }
    return false;
}

/* Pages behind slot I's name before it is first written (a file system that
 * cannot back a page would otherwise kill the program with SIGBUS there).
 * Chunks are backed whole, by whoever first needs one; twice is harmless. */
static int back(const struct fakeslot_view *v, uint32_t i)
{
    uint32_t c = i / FAKESLOT_CHUNK, n = v->cap - c * FAKESLOT_CHUNK;
    int err;

    if (!v->grow || (LOAD(&v->f->backed[c / 8]) & (1u << (c % 8))))
        return 0;
    err = v->grow(v->names[c * FAKESLOT_CHUNK],
                  (size_t)(n < FAKESLOT_CHUNK ? n : FAKESLOT_CHUNK) * FAKESLOT_NAME);
    if (!err)
        __atomic_fetch_or(&v->f->backed[c / 8], (uint8_t)(1u << (c % 8)), __ATOMIC_RELEASE);
    return err;
}

/* Slot I := KEY, published: the state word goes odd after the bytes. */
static void fill(const struct fakeslot_view *v, uint32_t i, const char *key, size_t len, uint32_t h)
{
    struct fakeslot_meta *m = &v->meta[i];
    uint32_t gen = LOAD(&m->state) >> 1;

    STORE(&m->state, (gen + 1) << 1);
    SEQ_FENCE(m, __ATOMIC_RELEASE);
    memcpy(v->names[i], key, len + 1);
    STORE(&m->hash, h);
    STORE(&m->state, ((gen + 1) << 1) | 1);
}

/* Whether the published slot I holds KEY. A slot the index references is never
 * written again, so its bytes are stable once its entry is seen. */
static bool holds(const struct fakeslot_view *v, uint32_t i, const char *key, uint32_t h)
{
    return i < v->cap && LOAD(&v->meta[i].hash) == h &&
           strncmp(v->names[i], key, FAKESLOT_NAME) == 0;
}

int fakeslot_get(const struct fakeslot_view *v, const char *key, uint32_t h, bool add,
                 uint32_t *slot, bool *added)
{
    size_t len = strlen(key);
    uint32_t p = home(v, h), mine = UINT32_MAX;

    *added = false;
    if (v->cap == 0 || len == 0 || len >= FAKESLOT_NAME)
        return EINVAL;
    for (uint32_t n = 0; n <= v->mask; n++, p = (p + 1) & v->mask) {
        uint32_t e = LOAD(&v->index[p]);
        if (e == 0) {
            if (!add)
                return ENOENT;
            if (mine == UINT32_MAX) {
                int err;
                if (!take(v, &mine))
                    return EAGAIN;
                if ((err = back(v, mine)) != 0) {
                    give_back(v, mine); /* touches only its metadata */
                    return err;
                }
                fill(v, mine, key, len, h);
            }
            if (CAS(&v->index[p], &e, mine + 1)) {
                *slot = mine;
                *added = true;
                return 0;
            }
            /* E is now the entry that won this position: is it our name? */
        }
        if (holds(v, e - 1, key, h)) {
            if (mine != UINT32_MAX)
                give_back(v, mine);
            *slot = e - 1;
            return 0;
        }
    }
    if (mine != UINT32_MAX)
        give_back(v, mine);
    return EAGAIN; /* never: the index has twice as many entries as slots */
}

bool fakeslot_name(const struct fakeslot_view *v, uint32_t i, char *out, size_t cap)
{
    uint32_t s1, s2;
    size_t n;

    if (i >= v->cap || cap == 0)
        return false;
    s1 = LOAD(&v->meta[i].state);
    if (!(s1 & 1))
        return false;
    n = strnlen(v->names[i], cap - 1 < FAKESLOT_NAME - 1 ? cap - 1 : FAKESLOT_NAME - 1);
    memcpy(out, v->names[i], n);
    out[n] = '\0';
    SEQ_FENCE(&v->meta[i], __ATOMIC_ACQUIRE);
    s2 = __atomic_load_n(&v->meta[i].state, __ATOMIC_RELAXED);
    return s1 == s2 && n > 0;
}
