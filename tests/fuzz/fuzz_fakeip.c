/* libFuzzer: the fake-IP table (common/fakeip.h) on tiny ranges (IPv4 /29../32,
 * IPv6 /125../128, base written with host bits set or not), driven by a sequence of
 * operations from the input. Invariants, checked after every step:
 *   - a valid name gets an address inside its range, never the network or the last
 *     address, and fakeip_is_fake() says so;
 *   - lookup(addr(name)) == name (lower case, no trailing dot), also through the
 *     IPv4-mapped form and fakeip_lookup() on a sockaddr;
 *   - the same name keeps the same address while its entry lives: whenever a lookup
 *     of the address still gives the name, asking for the name again gives that
 *     address; every slot's name maps back to that slot;
 *   - an address pinned (a socket connected through it) or handed out within
 *     FAKEIP_QUARANTINE_S seconds of the injected clock keeps its name; a name is
 *     refused (EAGAIN) only when every slot holds a name; names from relayed
 *     datagrams never hold more than FAKEIP_RELAYED_MAX slots;
 *   - EINVAL exactly for names the header calls invalid, EAFNOSUPPORT for a family
 *     with no usable range; fakeip_capacity() is 2^host_bits - 2 (0 below 2 bits);
 *   - after fakeip_free() nothing is found and nothing is handed out.
 * Input: byte 0 ranges, byte 1 base, then operations (opcode byte, arguments). */
#include "common/fakeip.h"
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <errno.h>

#define MODEL_MAX 64

/* FUZZ_STRICT=1 (run.sh --repro sets it) also demands that a stored name maps back
 * to its own slot when it ends in a dot: a name "a.." is stored as "a.", and asking
 * for "a." gives the slot of "a" (one trailing dot dropped again). Off by default so
 * that the fuzzer looks for other things; tests/fuzz/crashes/fakeip-* shows it. */
static bool strict;

/* Can NAME, as lookup() gave it, be asked for again and land on its own slot? */
static bool roundtrips(const char *name)
{
    size_t n = strlen(name);
    return strict || n == 0 || name[n - 1] != '.';
}

struct entry {
    int family;
    uint8_t addr[16];
    char name[FAKEIP_NAME_MAX];
    uint32_t stamp; /* when the model last saw it handed out (the table's may be later) */
    int pins;       /* pins this entry holds */
};

static uint32_t now; /* the injected clock, in seconds */

static struct entry model[MODEL_MAX];
static int n_model;

static int p4, p6;
static uint8_t net4[4], net6[16];

static int ref_normalize(const char *name, char *out)
{
    size_t n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= ' ' || ch == 0x7f || (ch == '.' && (i == 0 || i == n - 1 || name[i - 1] == '.')))
            return EINVAL; /* an empty label */
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    out[n] = '\0';
    return 0;
}

static size_t ref_capacity(int host_bits)
{
    if (host_bits < 2)
        return 0;
    size_t n = ((size_t)1 << host_bits) - 2;
    return n < FAKEIP_MAX_SLOTS - 2 ? n : FAKEIP_MAX_SLOTS - 2;
}

static size_t alen_of(int family)
{
    return family == AF_INET ? 4 : 16;
}

/* Offset of ADDR from the family's network address, or -1 outside the range. */
static long offset_of(int family, const uint8_t *a)
{
    const uint8_t *net = family == AF_INET ? net4 : net6;
    int prefix = family == AF_INET ? p4 : p6, bits = family == AF_INET ? 32 : 128;
    size_t alen = alen_of(family);
    long off = 0;

    for (int i = 0; i < prefix; i++)
        if (((a[i / 8] ^ net[i / 8]) >> (7 - i % 8)) & 1)
            return -1;
    for (int i = prefix; i < bits; i++) /* at most 3 host bits here */
        off = off << 1 | ((a[i / 8] >> (7 - i % 8)) & 1);
    (void)alen;
    return off;
}

static void addr_at(int family, long off, uint8_t *out)
{
    size_t alen = alen_of(family);
    memcpy(out, family == AF_INET ? net4 : net6, alen);
    out[alen - 1] = (uint8_t)(out[alen - 1] + off); /* host part fits the last byte */
}

static const char *fmt(int family, const uint8_t *a)
{
    static char buf[4][INET6_ADDRSTRLEN];
    static int next;
    char *b = buf[next++ % 4];
    inet_ntop(family, a, b, INET6_ADDRSTRLEN);
    return b;
}

static void check_lookup(int family, const uint8_t *addr, const char *want)
{
    char got[FAKEIP_NAME_MAX];
    bool ok = fakeip_lookup_addr_at(family, addr, now, got, sizeof got);

    FUZZ_CHECK(ok && strcmp(got, want) == 0, "lookup(%s) = %s, expected \"%s\"", fmt(family, addr),
               ok ? got : "(none)", want);
    if (family == AF_INET) {
        struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
        s6.sin6_addr.s6_addr[10] = s6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&s6.sin6_addr.s6_addr[12], addr, 4);
        ok = fakeip_lookup_addr_at(AF_INET6, &s6.sin6_addr, now, got, sizeof got);
        FUZZ_CHECK(ok && strcmp(got, want) == 0, "lookup(::ffff:%s) = %s, expected \"%s\"",
                   fmt(family, addr), ok ? got : "(none)", want);
        FUZZ_CHECK(!fakeip_lookup((struct sockaddr *)&s6, sizeof s6 - 1, got, sizeof got),
                   "lookup on a short sockaddr_in6 succeeded");
        /* truncation: always terminated */
        char small[4];
        ok = fakeip_lookup_addr_at(family, addr, now, small, sizeof small);
        FUZZ_CHECK(ok && strlen(small) == (strlen(want) < 3 ? strlen(want) : 3) &&
                       strncmp(small, want, 3) == 0,
                   "truncated lookup gave \"%s\" for \"%s\"", small, want);
    }
}

static void remember(int family, const uint8_t *addr, const char *name)
{
    struct entry *e = &model[n_model % MODEL_MAX];
    e->family = family;
    memcpy(e->addr, addr, alen_of(family));
    snprintf(e->name, sizeof e->name, "%s", name);
    e->stamp = now;
    e->pins = 0;
    n_model++;
}

static int for_name(const char *name, int family, uint8_t *addr)
{
    return fakeip_for_name_at(name, family, false, now, addr);
}

/* Every usable slot of FAMILY holds a name (a lookup at NOW: refreshes them). */
static bool table_full(int family)
{
    char got[FAKEIP_NAME_MAX];
    uint8_t a[16];

    for (long off = 1; off <= (long)fakeip_capacity(family); off++) {
        addr_at(family, off, a);
        if (!fakeip_lookup_addr_at(family, a, now, got, sizeof got))
            return false;
    }
    return true;
}

static void ask(const char *name, int family, bool relayed)
{
    uint8_t addr[16];
    char norm[FAKEIP_NAME_MAX + 300];
    int want = ref_normalize(name, norm);
    bool on = fakeip_capacity(family) > 0;
    int r = fakeip_for_name_at(name, family, relayed, now, addr);

    if (want)
        FUZZ_CHECK(r == EINVAL, "for_name(\"%.60s\") = %d, expected EINVAL", name, r);
    else if (!on)
        FUZZ_CHECK(r == EAFNOSUPPORT, "for_name(\"%.60s\") on a disabled family = %d", name, r);
    else if (r == EAGAIN)
        FUZZ_CHECK(relayed || table_full(family), "for_name(\"%.60s\") = EAGAIN, a slot is free",
                   name);
    else
        FUZZ_CHECK(r == 0, "for_name(\"%.60s\") = %d", name, r);
    if (r)
        return;
    long off = offset_of(family, addr);
    size_t cap = fakeip_capacity(family);
    FUZZ_CHECK(off >= 1 && (size_t)off <= cap, "for_name(\"%s\") = %s: offset %ld of %zu slots",
               norm, fmt(family, addr), off, cap);
    FUZZ_CHECK(fakeip_is_fake_addr(family, addr), "%s not fake", fmt(family, addr));
    check_lookup(family, addr, norm);
    /* asked again at once (in any spelling): the same address */
    uint8_t again[16];
    FUZZ_CHECK(for_name(name, family, again) == 0 && memcmp(again, addr, alen_of(family)) == 0,
               "\"%s\" got %s, then another address", name, fmt(family, addr));
    if (roundtrips(norm))
        FUZZ_CHECK(for_name(norm, family, again) == 0 && memcmp(again, addr, alen_of(family)) == 0,
                   "\"%s\" got %s, its stored name \"%s\" another address (%s)", name,
                   fmt(family, addr), norm, fmt(family, again));
    remember(family, addr, norm);
}

/* A remembered mapping still alive must not have moved. */
static void recheck(struct entry *e)
{
    char got[FAKEIP_NAME_MAX];
    uint8_t addr[16];

    bool guarded = e->pins > 0 || (int32_t)(now - e->stamp) < FAKEIP_QUARANTINE_S;
    bool ok = fakeip_lookup_addr_at(e->family, e->addr, now, got, sizeof got);

    FUZZ_CHECK(!guarded || (ok && strcmp(got, e->name) == 0),
               "%s (pinned %d, handed out %u s ago) lost \"%s\" to \"%s\"", fmt(e->family, e->addr),
               e->pins, now - e->stamp, e->name, ok ? got : "(none)");
    if (!ok || strcmp(got, e->name) != 0)
        return; /* reused: allowed once the table was full and the guards off */
    if (!roundtrips(e->name))
        return;
    e->stamp = now; /* used (the lookup) and asked again (below) */
    FUZZ_CHECK(for_name(e->name, e->family, addr) == 0 &&
                   memcmp(addr, e->addr, alen_of(e->family)) == 0,
               "\"%s\" still at %s but now handed %s", e->name, fmt(e->family, e->addr),
               fmt(e->family, addr));
}

static void sweep(int family)
{
    size_t cap = fakeip_capacity(family);
    uint8_t a[16], b[16];
    char got[FAKEIP_NAME_MAX];
    int bits = family == AF_INET ? 32 - p4 : 128 - p6;

    if (bits > 3)
        bits = 3;
    for (long off = 0; off < (1L << bits); off++) {
        addr_at(family, off, a);
        FUZZ_CHECK(fakeip_is_fake_addr(family, a) == (cap > 0), "is_fake(%s) with capacity %zu",
                   fmt(family, a), cap);
        bool ok = fakeip_lookup_addr_at(family, a, now, got, sizeof got);
        if (off == 0 || (size_t)off > cap) {
            FUZZ_CHECK(!ok, "%s (offset %ld, outside the %zu slots) names \"%s\"", fmt(family, a),
                       off, cap, got);
            continue;
        }
        if (!ok || !roundtrips(got))
            continue;
        FUZZ_CHECK(for_name(got, family, b) == 0 && memcmp(a, b, alen_of(family)) == 0,
                   "slot %s names \"%s\", which maps to %s", fmt(family, a), got, fmt(family, b));
    }
}

static const char *const names[] = {
    "www.example.com", "a.example", "b.example", "c.example", "d.example", "e.example",
    "f.example",       "g.example", "localhost", "x",         "0.0.0.0",   "xn--bcher-kva.example"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static struct conf c; /* only the fake ranges are read */
    uint8_t sel, base;

    if (size > 4096)
        return 0;
    strict = getenv("FUZZ_STRICT") && strcmp(getenv("FUZZ_STRICT"), "1") == 0;
    sel = fuzz_u8(&in);
    base = fuzz_u8(&in);
    p4 = 29 + (sel & 3);
    p6 = 125 + ((sel >> 2) & 3);
    memset(&c, 0, sizeof c);
    c.fake_ip_range.prefix = (uint8_t)p4;
    c.fake_ip6_range.prefix = (uint8_t)p6;
    /* 192.0.2.X and 2001:db8::X, host bits possibly set (init clears them) */
    uint8_t b4[4] = {192, 0, 2, base}, b6[16] = {0x20, 0x01, 0x0d, 0xb8};
    b6[15] = base;
    memcpy(&c.fake_ip_range.addr, b4, 4);
    memcpy(&c.fake_ip6_range.addr, b6, 16);
    memcpy(net4, b4, 4);
    memcpy(net6, b6, 16);
    net4[3] &= (uint8_t)(0xff << (32 - p4));
    net6[15] &= (uint8_t)(0xff << (128 - p6));

    FUZZ_CHECK(fakeip_init(&c) == 0, "fakeip_init");
    FUZZ_CHECK(fakeip_capacity(AF_INET) == ref_capacity(32 - p4), "capacity4 %zu for /%d",
               fakeip_capacity(AF_INET), p4);
    FUZZ_CHECK(fakeip_capacity(AF_INET6) == ref_capacity(128 - p6), "capacity6 %zu for /%d",
               fakeip_capacity(AF_INET6), p6);
    n_model = 0;
    now = 1000;

    for (int steps = 0; in.n && steps < 400; steps++) {
        uint8_t op = fuzz_u8(&in), arg = fuzz_u8(&in);
        int family = (op & 0x80) ? AF_INET6 : AF_INET;
        char name[300], *raw;
        uint8_t a[16];

        switch (op % 8) {
        case 0: { /* a name from a small set, in some spelling */
            const char *n = names[arg % (sizeof names / sizeof names[0])];
            size_t i;
            for (i = 0; n[i] && i < sizeof name - 2; i++)
                name[i] = (arg & 0x40) && (i % 2)
                              ? (char)(n[i] >= 'a' && n[i] <= 'z' ? n[i] - 32 : n[i])
                              : n[i];
            if (arg & 0x80)
                name[i++] = '.';
            name[i] = '\0';
            ask(name, family, (op & 0x40) != 0);
            break;
        }
        case 1: /* any bytes as a name */
            raw = fuzz_take_str(&in);
            ask(raw, family, false);
            free(raw);
            break;
        case 2: { /* look an address up */
            char got[FAKEIP_NAME_MAX], norm[FAKEIP_NAME_MAX];
            addr_at(family, arg & 7, a);
            if (fakeip_lookup_addr_at(family, a, now, got, sizeof got)) {
                FUZZ_CHECK(!roundtrips(got) ||
                               (ref_normalize(got, norm) == 0 && strcmp(norm, got) == 0),
                           "lookup gave an unnormalized name \"%s\"", got);
                check_lookup(family, a, got);
            }
            break;
        }
        case 3: { /* range checks on addresses near and far */
            addr_at(family, arg & 7, a);
            if (arg & 8)
                a[0] ^= 1;
            bool want = fakeip_capacity(family) > 0 && offset_of(family, a) >= 0;
            FUZZ_CHECK(fakeip_is_fake_addr(family, a) == want, "is_fake(%s) != %d", fmt(family, a),
                       want);
            break;
        }
        case 4: /* a remembered mapping */
            if (n_model)
                recheck(&model[arg % (n_model < MODEL_MAX ? n_model : MODEL_MAX)]);
            break;
        case 5: /* time passes: up to about four quarantines */
            now += (uint32_t)arg * 10u;
            break;
        case 6: { /* a socket connects through a remembered address, or closes */
            struct entry *e;
            char got[FAKEIP_NAME_MAX];
            if (!n_model)
                break;
            e = &model[arg % (n_model < MODEL_MAX ? n_model : MODEL_MAX)];
            if (arg & 0x80) {
                if (e->pins > 0) {
                    fakeip_unpin_addr(e->family, e->addr);
                    e->pins--;
                }
                break;
            }
            bool named = fakeip_lookup_addr_at(e->family, e->addr, now, got, sizeof got) &&
                         strcmp(got, e->name) == 0;
            if (!named)
                break;
            FUZZ_CHECK(fakeip_pin_addr(e->family, e->addr), "pin of named %s refused",
                       fmt(e->family, e->addr));
            e->pins++;
            e->stamp = now;
            break;
        }
        case 7: /* the relayed cap: a burst of new names from datagrams */
            for (int i = 0; i < 8; i++) {
                snprintf(name, sizeof name, "r%u-%d.example", arg, i);
                ask(name, family, true);
            }
            break;
        }
    }
    for (int i = 0; i < n_model && i < MODEL_MAX; i++)
        recheck(&model[i]);
    sweep(AF_INET);
    sweep(AF_INET6);

    fakeip_free();
    uint8_t a[16];
    char got[FAKEIP_NAME_MAX];
    FUZZ_CHECK(fakeip_capacity(AF_INET) == 0 && fakeip_capacity(AF_INET6) == 0,
               "capacity after free");
    FUZZ_CHECK(for_name("a.example", AF_INET, a) == EAFNOSUPPORT, "for_name after fakeip_free");
    addr_at(AF_INET, 1, a);
    FUZZ_CHECK(!fakeip_lookup_addr(AF_INET, a, got, sizeof got) && !fakeip_is_fake_addr(AF_INET, a),
               "lookup after fakeip_free");
    return 0;
}
