#include "common/fakeip.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One slot: the name its address stands for. The address is implicit in the
 * index (range base + 1 + index), which makes address -> name O(1). */
struct fake_entry {
    char *name;    /* NULL: free */
    uint32_t hash; /* of name, so chain walks rarely compare strings */
    uint32_t next; /* next slot in the same hash bucket, as a link (see below) */
    uint8_t ref;   /* used since the clock hand last passed: spared once */
};

struct fake_table {
    int family;
    uint8_t base[16];  /* network address, host bits cleared */
    uint32_t cap;      /* usable slots */
    uint32_t used;     /* slots filled so far; below cap no recycling is needed */
    uint32_t hand;     /* clock hand over the slots once full */
    uint32_t nbuckets; /* power of two */
    /* Links are slot + 1, 0 = end: fresh zeroed memory is an empty table, so the
     * tables cost no page until a name lands in them (a memset to -1 of both
     * bucket arrays was a millisecond of page faults in the first lookup). */
    uint32_t *buckets;
    struct fake_entry *e;
};

/* Read without a lock by fakeip_is_fake(): written only by fakeip_init()/free(). */
static struct {
    bool on4, on6;
    uint32_t net4, mask4; /* host order */
    uint8_t net6[16];
    uint8_t prefix6;
} range;

static struct fake_table tab4 = {.family = AF_INET}, tab6 = {.family = AF_INET6};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct fake_table *table_for(int family)
{
    if (family == AF_INET)
        return &tab4;
    if (family == AF_INET6)
        return &tab6;
    return NULL;
}

/* FNV-1a: short keys, good enough spread for chained buckets. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Lower case, one trailing dot dropped: "Example.COM." and "example.com" are one
 * name to DNS, so they must be one fake address. */
static int normalize(const char *name, char *out)
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
    if (host_bits < 2)
        return 0;
    if (host_bits > 16)
        return FAKEIP_MAX_ENTRIES;
    uint32_t n = (1u << host_bits) - 2;
    return n < FAKEIP_MAX_ENTRIES ? n : FAKEIP_MAX_ENTRIES;
}

/* Builds T for a range with base BASE (family-sized bytes, host bits already
 * cleared) and HOST_BITS; leaves T empty (disabled) on a tiny range. */
static int table_build(struct fake_table *t, const uint8_t *base, size_t alen, int host_bits)
{
    memset(t->base, 0, sizeof(t->base));
    memcpy(t->base, base, alen);
    t->cap = usable_slots(host_bits);
    t->used = t->hand = 0;
    if (t->cap == 0)
        return 0;
    t->nbuckets = 1;
    while (t->nbuckets < t->cap)
        t->nbuckets <<= 1;
    t->e = calloc(t->cap, sizeof(*t->e));
    t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
    if (!t->e || !t->buckets) {
        table_release(t);
        return ENOMEM;
    }
    return 0;
}

static void clear_host_bits(uint8_t *a, size_t alen, int prefix)
{
    for (size_t i = 0; i < alen; i++) {
        int keep = prefix - (int)i * 8;
        if (keep <= 0)
            a[i] = 0;
        else if (keep < 8)
            a[i] &= (uint8_t)(0xff << (8 - keep));
    }
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

    pthread_mutex_lock(&lock);
    table_release(&tab4);
    table_release(&tab6);
    int err = table_build(&tab4, b4, 4, 32 - p4);
    if (!err)
        err = table_build(&tab6, b6, 16, 128 - p6);
    if (err) {
        table_release(&tab4);
        table_release(&tab6);
    }
    range.on4 = tab4.cap > 0;
    range.mask4 = p4 == 0 ? 0 : 0xffffffffu << (32 - p4);
    uint32_t net4;
    memcpy(&net4, b4, 4);
    range.net4 = ntohl(net4);
    range.on6 = tab6.cap > 0;
    memcpy(range.net6, b6, 16);
    range.prefix6 = (uint8_t)p6;
    pthread_mutex_unlock(&lock);

    if (err)
        log_error("fake ip: cannot allocate the tables: %s", strerror(err));
    return err;
}

void fakeip_free(void)
{
    pthread_mutex_lock(&lock);
    range.on4 = range.on6 = false;
    table_release(&tab4);
    table_release(&tab6);
    pthread_mutex_unlock(&lock);
}

size_t fakeip_capacity(int family)
{
    struct fake_table *t = table_for(family);
    return t ? t->cap : 0;
}

/* ---- the lock-free range check ---- */

static bool in_range4(const void *addr)
{
    uint32_t a;
    memcpy(&a, addr, 4);
    return range.on4 && (ntohl(a) & range.mask4) == range.net4;
}

static bool in_range6(const uint8_t *a)
{
    int p = range.prefix6, whole = p / 8, rest = p % 8;

    if (!range.on6 || memcmp(a, range.net6, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & m) == range.net6[whole];
}

bool fakeip_is_fake_addr(int family, const void *addr)
{
    if (family == AF_INET)
        return in_range4(addr);
    if (family != AF_INET6)
        return false;
    /* A program that asked for AI_V4MAPPED connects to ::ffff:198.18.x.y. */
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr))
        return in_range4((const uint8_t *)addr + 12);
    return in_range6(addr);
}

/* The family and address bytes of SA, or false when it is too short or not IP. */
static bool sockaddr_bytes(const struct sockaddr *sa, socklen_t len, int *family, const void **addr)
{
    if (!sa || len < (socklen_t)sizeof(sa_family_t))
        return false;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        *family = AF_INET;
        *addr = &((const struct sockaddr_in *)sa)->sin_addr;
        return true;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        *family = AF_INET6;
        *addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return true;
    }
    return false;
}

bool fakeip_is_fake(const struct sockaddr *sa, socklen_t len)
{
    int family;
    const void *addr;
    return sockaddr_bytes(sa, len, &family, &addr) && fakeip_is_fake_addr(family, addr);
}

/* ---- slots ---- */

/* The address of slot I: base + 1 + I. The offset fits in the low 32 bits: at
 * most FAKEIP_MAX_ENTRIES slots, and base has its host bits cleared. */
static void slot_addr(const struct fake_table *t, uint32_t i, void *out)
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
static int32_t slot_of(const struct fake_table *t, const uint8_t *a)
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

static int32_t find_name(const struct fake_table *t, const char *name, uint32_t h)
{
    for (uint32_t l = t->buckets[h & (t->nbuckets - 1)]; l; l = t->e[l - 1].next)
        if (t->e[l - 1].hash == h && strcmp(t->e[l - 1].name, name) == 0)
            return (int32_t)(l - 1);
    return -1;
}

static void unlink_slot(struct fake_table *t, int32_t i)
{
    uint32_t *link = &t->buckets[t->e[i].hash & (t->nbuckets - 1)], me = (uint32_t)i + 1;

    while (*link && *link != me)
        link = &t->e[*link - 1].next;
    if (*link == me)
        *link = t->e[i].next;
    free(t->e[i].name);
    t->e[i].name = NULL;
}

/* A slot for a new name: the next never-used one, else the clock's victim. A
 * referenced slot loses its mark and is passed over once, so the loop ends
 * within two turns of the hand. */
static int32_t take_slot(struct fake_table *t)
{
    if (t->used < t->cap)
        return (int32_t)t->used++;
    for (;;) {
        int32_t i = (int32_t)t->hand;
        t->hand = (t->hand + 1) % t->cap;
        if (!t->e[i].ref) {
            unlink_slot(t, i);
            return i;
        }
        t->e[i].ref = 0;
    }
}

static void insert_slot(struct fake_table *t, int32_t i, char *name, uint32_t h)
{
    uint32_t *head = &t->buckets[h & (t->nbuckets - 1)];

    t->e[i].name = name;
    t->e[i].hash = h;
    t->e[i].ref = 0;
    t->e[i].next = *head;
    *head = (uint32_t)i + 1;
}

int fakeip_for_name(const char *name, int family, void *out_addr)
{
    char key[FAKEIP_NAME_MAX];
    struct fake_table *t = table_for(family);

    if (normalize(name, key) != 0)
        return EINVAL;
    if (!t || t->cap == 0)
        return EAFNOSUPPORT;
    /* Copy before locking, so the lock never waits on malloc. */
    char *copy = strdup(key);
    if (!copy)
        return ENOMEM;
    uint32_t h = name_hash(key);

    pthread_mutex_lock(&lock);
    int32_t i = t->cap ? find_name(t, key, h) : -1;
    if (i >= 0) {
        t->e[i].ref = 1;
    } else if (t->cap) {
        i = take_slot(t);
        insert_slot(t, i, copy, h);
        copy = NULL;
    }
    if (i >= 0)
        slot_addr(t, (uint32_t)i, out_addr);
    pthread_mutex_unlock(&lock);

    free(copy);
    return i >= 0 ? 0 : EAFNOSUPPORT;
}

bool fakeip_lookup_addr(int family, const void *addr, char *name, size_t cap)
{
    uint8_t buf[16];

    if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)addr)) {
        memcpy(buf, (const uint8_t *)addr + 12, 4);
        return fakeip_lookup_addr(AF_INET, buf, name, cap);
    }
    struct fake_table *t = table_for(family);
    if (!t || !fakeip_is_fake_addr(family, addr))
        return false;

    bool found = false;
    pthread_mutex_lock(&lock);
    int32_t i = slot_of(t, addr);
    if (i >= 0 && (uint32_t)i < t->used && t->e[i].name) {
        /* A connect to the address means the name is in use: spare it. */
        t->e[i].ref = 1;
        if (cap > 0) {
            size_t n = strnlen(t->e[i].name, cap - 1);
            memcpy(name, t->e[i].name, n);
            name[n] = '\0';
        }
        found = true;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

bool fakeip_lookup(const struct sockaddr *sa, socklen_t len, char *name, size_t cap)
{
    int family;
    const void *addr;
    return sockaddr_bytes(sa, len, &family, &addr) && fakeip_lookup_addr(family, addr, name, cap);
}

void fakeip_atfork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

void fakeip_atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

void fakeip_atfork_child(void)
{
    /* Only the forking thread survives; whoever held the lock is gone. With the
     * prepare handler registered, the table was consistent when fork ran. A copy
     * of the static initializer, because only async-signal-safe calls are sure to
     * work in the child of a threaded process. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lock, &fresh, sizeof(lock));
}
