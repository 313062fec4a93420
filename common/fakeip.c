/* Kept whole at about 500 lines: the process's own name-address tables and all under their lock. */
#include "common/fakeip.h"

#include "common/fakeip_int.h"
#include "common/fakerange.h"
#include "common/hostbits.h"
#include "common/reentry.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct fake_table tab4 = {.family = AF_INET}, tab6 = {.family = AF_INET6};
pthread_mutex_t fakeip_lock = PTHREAD_MUTEX_INITIALIZER;
bool fakeip_shared; /* the table shared under state_dir (common/fakeshare.h) is used instead */

static struct fake_table *table_for(int family)
{
    if (family == AF_INET)
        return &tab4;
    if (family == AF_INET6)
        return &tab6;
    return NULL;
}

/* FNV-1a: short keys, good enough spread for chained buckets. */
uint32_t fakeip_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Lower case, one trailing dot dropped: "Example.COM." and "example.com" are one
 * name to DNS, so they must be one fake address. */
int fakeip_normalize(const char *name, char *out)
{
    size_t n = name ? strlen(name) : 0;

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n >= FAKEIP_NAME_MAX)
        return EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        /* An empty label ("a..", ".a") is no DNS name, and "a.." would come
         * back from a lookup as "a.", which maps to another slot. */
        if (ch <= ' ' || ch == 0x7f || (ch == '.' && (i == 0 || i == n - 1 || name[i - 1] == '.')))
            return EINVAL;
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : (char)ch;
    }
    out[n] = '\0';
    return 0;
}

static void table_release(struct fake_table *t)
{
    for (uint32_t i = 0; t->e && i < t->used; i++)
        free(t->e[i].name);
    free(t->e);
    free(t->buckets);
    int family = t->family;
    memset(t, 0, sizeof(*t));
    t->family = family;
}

/* Usable slots in a range of 2^HOST_BITS addresses, minus the first and last. */
static uint32_t usable_slots(int host_bits)
{
    uint32_t max = FAKEIP_MAX_SLOTS - 2;

    if (host_bits < 2)
        return 0;
    if (host_bits > 18)
        return max;
    uint32_t n = (1u << host_bits) - 2;
    return n < max ? n : max;
}

/* Sets T up for a range with base BASE (family-sized bytes, host bits already
 * cleared) and HOST_BITS; a tiny range leaves it disabled. No memory yet. */
static void table_build(struct fake_table *t, const uint8_t *base, size_t alen, int host_bits)
{
    memset(t->base, 0, sizeof(t->base));
    memcpy(t->base, base, alen);
    t->cap = usable_slots(host_bits);
    t->nbuckets = 1;
    while (t->nbuckets < t->cap)
        t->nbuckets <<= 1;
}

/* The arrays of T, made by the first name of its family. Allocated without the
 * lock (the caller holds none) and put in place under it unless another thread
 * was first. ENOMEM is logged: the caller fails the name, never resolves it. */
int fakeip_table_memory(struct fake_table *t)
{
    pthread_mutex_lock(&fakeip_lock);
    bool have = t->e != NULL;
    uint32_t cap = t->cap, nb = t->nbuckets;
    pthread_mutex_unlock(&fakeip_lock);
    if (have || cap == 0)
        return 0;

    struct fake_entry *e = calloc(cap, sizeof(*e));
    uint32_t *b = calloc(nb, sizeof(*b));
    if (!e || !b) {
        free(e);
        free(b);
        log_error("fake ip: cannot allocate the IPv%c table (%u addresses): %s",
                  t->family == AF_INET ? '4' : '6', cap, strerror(ENOMEM));
        return ENOMEM;
    }
    pthread_mutex_lock(&fakeip_lock);
    if (!t->e && t->cap == cap) {
        t->e = e;
        t->buckets = b;
        e = NULL;
        b = NULL;
    }
    pthread_mutex_unlock(&fakeip_lock);
    free(e);
    free(b);
    return 0;
}

int fakeip_init(const struct conf *c)
{
    /* dialshim.ini(5) defaults when there is no configuration: 198.18.0.0/15, fc00::/18 */
    uint8_t b4[4] = {198, 18, 0, 0}, b6[16] = {0xfc, 0x00};
    int p4 = 15, p6 = 18;

    if (c) {
        p4 = c->fake_ip_range.prefix > 32 ? 32 : c->fake_ip_range.prefix;
        p6 = c->fake_ip6_range.prefix > 128 ? 128 : c->fake_ip6_range.prefix;
        memcpy(b4, &c->fake_ip_range.addr, 4);
        memcpy(b6, &c->fake_ip6_range.addr, 16);
    }
    clear_host_bits(b4, 4, p4);
    clear_host_bits(b6, 16, p6);

    fakeip_share_reset();
    pthread_mutex_lock(&fakeip_lock);
    table_release(&tab4);
    table_release(&tab6);
    table_build(&tab4, b4, 4, 32 - p4);
    table_build(&tab6, b6, 16, 128 - p6);
    fakerange_set(tab4.cap > 0 ? b4 : NULL, p4, tab6.cap > 0 ? b6 : NULL, p6);
    pthread_mutex_unlock(&fakeip_lock);
    return 0;
}

void fakeip_free(void)
{
    fakeip_share_reset();
    pthread_mutex_lock(&fakeip_lock);
    fakerange_set(NULL, 0, NULL, 0);
    table_release(&tab4);
    table_release(&tab6);
    pthread_mutex_unlock(&fakeip_lock);
}

void fakeip_bases(uint8_t base4[4], uint8_t base6[16], uint32_t cap[2])
{
    memcpy(base4, tab4.base, 4);
    memcpy(base6, tab6.base, 16);
    cap[0] = tab4.cap;
    cap[1] = tab6.cap;
}

size_t fakeip_capacity(int family)
{
    struct fake_table *t = table_for(family);
    return t ? t->cap : 0;
}

/* ---- slots ---- */

/* The address of slot I: base + 1 + I. The offset fits in the low 32 bits: at
 * most FAKEIP_MAX_SLOTS slots, and base has its host bits cleared. */
void fakeip_slot_addr(const struct fake_table *t, uint32_t i, void *out)
{
    uint8_t a[16];
    size_t alen = t->family == AF_INET ? 4 : 16;
    uint32_t low;

    memcpy(a, t->base, alen);
    memcpy(&low, a + alen - 4, 4);
    low = htonl(ntohl(low) + 1 + i);
    memcpy(a + alen - 4, &low, 4);
    memcpy(out, a, alen);
}

/* The slot of a fake address, or -1. Bytes above the low 32 bits must equal the
 * base: any difference there is an offset far beyond the table. */
int32_t fakeip_slot_index(const struct fake_table *t, const uint8_t *a)
{
    size_t alen = t->family == AF_INET ? 4 : 16;
    uint32_t lo_a, lo_b;

    if (t->cap == 0 || memcmp(a, t->base, alen - 4) != 0)
        return -1;
    memcpy(&lo_a, a + alen - 4, 4);
    memcpy(&lo_b, t->base + alen - 4, 4);
    uint32_t off = ntohl(lo_a) - ntohl(lo_b);
    if (off == 0 || off > t->cap)
        return -1;
    return (int32_t)(off - 1);
}

/* The same in the process's own table, which exists once a name landed in it. */
static int32_t slot_of(const struct fake_table *t, const uint8_t *a)
{
    return t->e ? fakeip_slot_index(t, a) : -1;
}

int32_t fakeip_find(const struct fake_table *t, const char *name, uint32_t h)
{
    if (!t->e)
        return -1;
    for (uint32_t l = t->buckets[h & (t->nbuckets - 1)]; l; l = t->e[l - 1].next)
        if (t->e[l - 1].hash == h && strcmp(t->e[l - 1].name, name) == 0)
            return (int32_t)(l - 1);
    return -1;
}

void fakeip_unlink(struct fake_table *t, int32_t i)
{
    uint32_t *link = &t->buckets[t->e[i].hash & (t->nbuckets - 1)], me = (uint32_t)i + 1;

    while (*link && *link != me)
        link = &t->e[*link - 1].next;
    if (*link == me)
        *link = t->e[i].next;
    free(t->e[i].name);
    t->e[i].name = NULL;
    if (t->e[i].relayed)
        t->relayed--;
    t->e[i].relayed = 0;
}

/* Whether slot E may stand for another name at NOW: no socket through it, and
 * not handed out or used within the quarantine. Signed: a stamp "ahead" of NOW
 * (another thread's later clock reading) is as fresh as can be. */
static bool reusable(const struct fake_entry *e, uint32_t now)
{
    return !e->name || (!e->pins && (int32_t)(now - e->stamp) >= FAKEIP_QUARANTINE_S);
}

/* A slot for a new name: the next never-used one, else the next reusable one
 * after the hand, or -1. A search that finds none remembers when the earliest
 * quarantine ends, so a full table refuses in O(1) until then (an unpin that
 * frees a slot makes the next call look again). */
static int32_t take_slot(struct fake_table *t, uint32_t now)
{
    uint32_t soonest = UINT32_MAX;

    if (t->used < t->cap)
        return (int32_t)t->used++;
    if (t->busy && (int32_t)(now - t->busy_until) < 0)
        return -1;
    for (uint32_t n = 0; n < t->cap; n++) {
        uint32_t i = t->hand;
        t->hand = (t->hand + 1) % t->cap;
        if (reusable(&t->e[i], now)) {
            if (t->e[i].name)
                fakeip_unlink(t, (int32_t)i);
            return (int32_t)i;
        }
        uint32_t wait = t->e[i].stamp + FAKEIP_QUARANTINE_S - now;
        if (!t->e[i].pins && wait < soonest)
            soonest = wait;
    }
    /* every slot pinned: look again after a quarantine, or at the next unpin */
    t->busy = true;
    t->busy_until = now + (soonest == UINT32_MAX ? FAKEIP_QUARANTINE_S : soonest);
    return -1;
}

void fakeip_insert(struct fake_table *t, int32_t i, char *name, uint32_t h)
{
    uint32_t *head = &t->buckets[h & (t->nbuckets - 1)];

    t->e[i].name = name;
    t->e[i].hash = h;
    t->e[i].pins = 0;
    t->e[i].next = *head;
    *head = (uint32_t)i + 1;
}

uint32_t fakeip_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_sec;
}

static const char *family_name(int family)
{
    return family == AF_INET ? "IPv4" : "IPv6";
}

/* Under the lock: the slot for KEY (found, or taken for COPY, which the table
 * then owns: *COPY is cleared), or -1 with the reason in *ERR. */
int32_t fakeip_slot_for(struct fake_table *t, const char *key, uint32_t h, char **copy,
                        bool relayed, uint32_t now, int *err)
{
    int32_t i = fakeip_find(t, key, h);

    if (i >= 0) {
        if (!relayed && t->e[i].relayed) {
            t->e[i].relayed = 0; /* the program's own name now: no longer counted */
            t->relayed--;
        }
    } else if (relayed && t->relayed >= FAKEIP_RELAYED_MAX) {
        *err = EAGAIN;
        return -1;
    } else if ((i = take_slot(t, now)) < 0) {
        *err = EAGAIN;
        return -1;
    } else {
        fakeip_insert(t, i, *copy, h);
        *copy = NULL;
        t->e[i].relayed = relayed;
        t->relayed += relayed;
    }
    t->e[i].stamp = now;
    return i;
}

int fakeip_for_name_at(const char *name, int family, bool relayed, uint32_t now, void *out_addr)
{
    char key[FAKEIP_NAME_MAX];
    struct fake_table *t = table_for(family);
    int err = 0;

    if (fakeip_normalize(name, key) != 0)
        return EINVAL;
    if (!t || t->cap == 0)
        return EAFNOSUPPORT;
    if (fakeip_shared) /* the shared table alone: no lock, no copy, no system call */
        return fakeip_shared_addr(t, key, relayed, out_addr);
    if (fakeip_table_memory(t) != 0)
        return ENOMEM;
    /* Copy before locking, so the lock never waits on malloc. */
    char *copy = strdup(key);
    if (!copy)
        return ENOMEM;
    uint32_t h = fakeip_hash(key);

    pthread_mutex_lock(&fakeip_lock);
    int32_t i = t->e ? fakeip_slot_for(t, key, h, &copy, relayed, now, &err) : -1;
    if (i >= 0)
        fakeip_slot_addr(t, (uint32_t)i, out_addr);
    uint32_t cap = t->cap, held = t->relayed;
    pthread_mutex_unlock(&fakeip_lock);

    free(copy);
    if (i >= 0)
        return 0;
    if (!err)
        return EAFNOSUPPORT; /* fakeip_free() ran meanwhile */
    if (relayed)
        log_debug("fake ip: no %s address for %s from a relayed datagram (%u of %u held by "
                  "such names, or none free)",
                  family_name(family), key, held, FAKEIP_RELAYED_MAX);
    else
        log_warn("fake ip: all %u %s addresses are held by connected sockets or were handed "
                 "out within %d s: %s refused (EAI_AGAIN)",
                 cap, family_name(family), FAKEIP_QUARANTINE_S, key);
    return err;
}

int fakeip_for_name(const char *name, int family, void *out_addr)
{
    return fakeip_for_name_at(name, family, false, fakeip_now(), out_addr);
}

int fakeip_for_relayed_name(const char *name, int family, void *out_addr)
{
    return fakeip_for_name_at(name, family, true, fakeip_now(), out_addr);
}

/* The table of a fake address (mapped IPv4 included: *ADDR then points at its
 * IPv4 part), or NULL. */
static struct fake_table *fake_table_of(int family, const void **addr)
{
    if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)*addr)) {
        family = AF_INET;
        *addr = (const uint8_t *)*addr + 12;
    }
    struct fake_table *t = table_for(family);
    return t && fakeip_is_fake_addr(family, *addr) ? t : NULL;
}

/* The table and slot of a fake address (mapped IPv4 included) under the lock, or
 * NULL: with *SLOT >= 0 only when it holds a name. */
static struct fake_table *locked_slot(int family, const void *addr, int32_t *slot)
{
    struct fake_table *t = fake_table_of(family, &addr);
    if (!t)
        return NULL;
    if (reentry_nested())
        return NULL; /* the lock may be held by the call a signal handler interrupted */
    pthread_mutex_lock(&fakeip_lock);
    *slot = slot_of(t, addr);
    if (*slot >= 0 && ((uint32_t)*slot >= t->used || !t->e[*slot].name))
        *slot = -1;
    return t;
}

bool fakeip_lookup_addr_at(int family, const void *addr, uint32_t now, char *name, size_t cap)
{
    int32_t i;
    struct fake_table *t;

    if (fakeip_shared) {
        t = fake_table_of(family, &addr);
        return t && fakeip_shared_name(t, addr, name, cap);
    }
    t = locked_slot(family, addr, &i);
    if (!t)
        return false;
    if (i >= 0) {
        /* A connect or a datagram to the address: the name is in use. */
        t->e[i].stamp = now;
        if (cap > 0) {
            size_t n = strnlen(t->e[i].name, cap - 1);
            memcpy(name, t->e[i].name, n);
            name[n] = '\0';
        }
    }
    pthread_mutex_unlock(&fakeip_lock);
    return i >= 0;
}

bool fakeip_lookup_addr(int family, const void *addr, char *name, size_t cap)
{
    return fakeip_lookup_addr_at(family, addr, fakeip_now(), name, cap);
}

bool fakeip_pin_addr(int family, const void *addr)
{
    int32_t i;
    struct fake_table *t;

    if (fakeip_shared) { /* never reassigned: a pin is whether it stands for a name */
        t = fake_table_of(family, &addr);
        return t && fakeip_shared_name(t, addr, NULL, 0);
    }
    t = locked_slot(family, addr, &i);

    if (!t)
        return false;
    if (i >= 0 && t->e[i].pins < 0x7fffffffu)
        t->e[i].pins++;
    pthread_mutex_unlock(&fakeip_lock);
    return i >= 0;
}

void fakeip_unpin_addr(int family, const void *addr)
{
    int32_t i;
    struct fake_table *t = fakeip_shared ? NULL : locked_slot(family, addr, &i);

    if (!t)
        return;
    if (i >= 0 && t->e[i].pins > 0 && --t->e[i].pins == 0)
        t->busy = false; /* it may be free now: look again */
    pthread_mutex_unlock(&fakeip_lock);
}

bool fakeip_lookup(const struct sockaddr *sa, socklen_t len, char *name, size_t cap)
{
    int family;
    const void *addr;
    return fakerange_sockaddr(sa, len, &family, &addr) &&
           fakeip_lookup_addr(family, addr, name, cap);
}

void fakeip_atfork_prepare(void)
{
    pthread_mutex_lock(&fakeip_lock);
}

void fakeip_atfork_parent(void)
{
    pthread_mutex_unlock(&fakeip_lock);
}

void fakeip_atfork_child(void)
{
    /* Only the forking thread survives; whoever held the lock is gone. With the
     * prepare handler registered, the table was consistent when fork ran. A copy
     * of the static initializer, because only async-signal-safe calls are sure to
     * work in the child of a threaded process. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&fakeip_lock, &fresh, sizeof(fakeip_lock));
    /* The shared table's mapping carries over and takes no lock. */
}
