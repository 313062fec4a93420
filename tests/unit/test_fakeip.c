/* fakeip: the name <-> fake address table. */
#include "common/fakeip.h"
#include "common/fakepin.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static struct conf cfg;

static void use_ranges(const char *v4, int p4, const char *v6, int p6)
{
    memset(&cfg, 0, sizeof(cfg));
    ck_assert_int_eq(inet_pton(AF_INET, v4, &cfg.fake_ip_range.addr), 1);
    cfg.fake_ip_range.prefix = (uint8_t)p4;
    ck_assert_int_eq(inet_pton(AF_INET6, v6, &cfg.fake_ip6_range.addr), 1);
    cfg.fake_ip6_range.prefix = (uint8_t)p6;
    ck_assert_int_eq(fakeip_init(&cfg), 0);
}

static void use_defaults(void)
{
    use_ranges("198.18.0.0", 15, "fc00::", 18);
}

/* The fake address of NAME as text. */
static const char *fake(const char *name, int family, char *buf)
{
    unsigned char a[16];
    ck_assert_int_eq(fakeip_for_name(name, family, a), 0);
    return inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
}

/* The name behind the address TEXT, or "-" when there is none. */
static const char *name_of(const char *text, char *buf)
{
    struct sockaddr_storage ss;
    socklen_t len;

    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':')) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        ck_assert_int_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        ck_assert_int_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
        len = sizeof(*s4);
    }
    if (!fakeip_lookup((struct sockaddr *)&ss, len, buf, FAKEIP_NAME_MAX))
        strcpy(buf, "-");
    return buf;
}

static bool is_fake_text(const char *text)
{
    unsigned char a[16];
    int family = strchr(text, ':') ? AF_INET6 : AF_INET;
    ck_assert_int_eq(inet_pton(family, text, a), 1);
    return fakeip_is_fake_addr(family, a);
}

START_TEST(same_name_same_address)
{
    char a[64], b[64], n[FAKEIP_NAME_MAX];
    use_defaults();
    ck_assert_str_eq(fake("a.example", AF_INET, a), "198.18.0.1");
    ck_assert_str_eq(fake("b.example", AF_INET, b), "198.18.0.2");
    ck_assert_str_eq(fake("a.example", AF_INET, a), "198.18.0.1");
    /* DNS names: case and a trailing dot don't make a new name */
    ck_assert_str_eq(fake("A.Example.", AF_INET, a), "198.18.0.1");
    ck_assert_str_eq(name_of("198.18.0.1", n), "a.example");
    ck_assert_str_eq(name_of("198.18.0.2", n), "b.example");
}
END_TEST

START_TEST(both_families)
{
    char a[64], n[FAKEIP_NAME_MAX];
    use_defaults();
    ck_assert_str_eq(fake("v6.example", AF_INET6, a), "fc00::1");
    ck_assert_str_eq(fake("v4.example", AF_INET, a), "198.18.0.1");
    ck_assert_str_eq(fake("v4.example", AF_INET6, a), "fc00::2");
    ck_assert_str_eq(fake("v6.example", AF_INET, a), "198.18.0.2");
    ck_assert_str_eq(name_of("fc00::1", n), "v6.example");
    ck_assert_str_eq(name_of("fc00::2", n), "v4.example");
    /* a program with AI_V4MAPPED connects to ::ffff:198.18.0.2 */
    ck_assert(is_fake_text("::ffff:198.18.0.2"));
    ck_assert_str_eq(name_of("::ffff:198.18.0.2", n), "v6.example");
    ck_assert_uint_eq(fakeip_capacity(AF_INET), 131070); /* all of the /15 */
    ck_assert_uint_eq(fakeip_capacity(AF_INET6), FAKEIP_MAX_SLOTS - 2);
    ck_assert_uint_eq(fakeip_capacity(AF_UNIX), 0);
}
END_TEST

#define T0 100000u /* an injected clock, in seconds */
#define Q  FAKEIP_QUARANTINE_S

/* The fake IPv4 address of NAME at NOW as text, or the error as "E<n>". */
static const char *fake_at(const char *name, uint32_t now, char *buf)
{
    unsigned char a[16];
    int err = fakeip_for_name_at(name, AF_INET, false, now, a);
    if (err) {
        snprintf(buf, INET6_ADDRSTRLEN, "E%d", err);
        return buf;
    }
    return inet_ntop(AF_INET, a, buf, INET6_ADDRSTRLEN);
}

static void fill_six(uint32_t now)
{
    char a[64], name[32], want[32];
    for (int i = 1; i <= 6; i++) {
        snprintf(name, sizeof(name), "n%d.example", i);
        snprintf(want, sizeof(want), "192.0.2.%d", 8 + i);
        ck_assert_str_eq(fake_at(name, now, a), want);
    }
}

static void pin_text(const char *text, bool pin)
{
    unsigned char a[4];
    ck_assert_int_eq(inet_pton(AF_INET, text, a), 1);
    if (pin)
        ck_assert(fakeip_pin_addr(AF_INET, a));
    else
        fakeip_unpin_addr(AF_INET, a);
}

/* Full and every address handed out within the quarantine: a new name is
 * refused with EAGAIN and no old name loses its address. */
START_TEST(full_table_refuses_within_quarantine)
{
    char a[64], n[FAKEIP_NAME_MAX];
    use_ranges("192.0.2.8", 29, "2001:db8::", 125);
    ck_assert_uint_eq(fakeip_capacity(AF_INET), 6);
    fill_six(T0);
    ck_assert_str_eq(fake_at("n7.example", T0 + Q - 1, a), "E11"); /* EAGAIN */
    ck_assert_str_eq(name_of("192.0.2.9", n), "n1.example");
    /* the names already there keep answering */
    ck_assert_str_eq(fake_at("n3.example", T0 + Q - 1, a), "192.0.2.11");
    /* never the network (.8) or last (.15) address */
    ck_assert_str_eq(name_of("192.0.2.8", n), "-");
    ck_assert_str_eq(name_of("192.0.2.15", n), "-");
}
END_TEST

/* After the quarantine the oldest address not used since is reused, in order. */
START_TEST(reuse_after_quarantine_in_order)
{
    char a[64], n[FAKEIP_NAME_MAX];
    use_ranges("192.0.2.8", 29, "2001:db8::", 125);
    fill_six(T0);
    /* n2 is asked for again later: its quarantine starts again */
    ck_assert_str_eq(fake_at("n2.example", T0 + 100, a), "192.0.2.10");
    ck_assert_str_eq(fake_at("n7.example", T0 + Q, a), "192.0.2.9");
    ck_assert_str_eq(
        fakeip_lookup_addr_at(AF_INET, (unsigned char[]){192, 0, 2, 9}, T0 + Q, n, sizeof(n)) ? n
                                                                                              : "-",
        "n7.example");
    ck_assert_str_eq(fake_at("n8.example", T0 + Q, a), "192.0.2.11"); /* n2's skipped */
    ck_assert_str_eq(name_of("192.0.2.10", n), "n2.example");
}
END_TEST

/* A pinned address (a socket connected through it) is never reused, however old;
 * the last unpin makes it reusable once its quarantine is over. */
START_TEST(pinned_address_is_never_reused)
{
    char a[64], n[FAKEIP_NAME_MAX];
    use_ranges("192.0.2.8", 29, "2001:db8::", 125);
    fill_six(T0);
    for (int i = 9; i <= 14; i++) {
        char text[32];
        snprintf(text, sizeof(text), "192.0.2.%d", i);
        pin_text(text, true);
    }
    pin_text("192.0.2.9", true); /* two sockets through n1 */
    ck_assert_str_eq(fake_at("late.example", T0 + 10 * Q, a), "E11");
    pin_text("192.0.2.9", false);
    ck_assert_str_eq(fake_at("late.example", T0 + 10 * Q, a), "E11");
    pin_text("192.0.2.9", false);
    ck_assert_str_eq(fake_at("late.example", T0 + 10 * Q, a), "192.0.2.9");
    ck_assert_str_eq(name_of("192.0.2.9", n), "late.example");
    ck_assert_str_eq(name_of("192.0.2.10", n), "n2.example");
    /* an address standing for no name cannot be pinned */
    unsigned char none[4] = {192, 0, 2, 15};
    ck_assert(!fakeip_pin_addr(AF_INET, none));
}
END_TEST

/* The engine's side of pins (common/fakepin.c): a descriptor connected through
 * an address pins it until close; a dup pins it once more; connecting the same
 * descriptor elsewhere moves its pin. */
START_TEST(descriptor_pins_follow_close_and_dup)
{
    char a[64], n[FAKEIP_NAME_MAX];
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    use_ranges("192.0.2.8", 29, "2001:db8::", 125);
    fill_six(T0);
    inet_pton(AF_INET, "192.0.2.9", &s4.sin_addr); /* n1 */
    fakepin_connect(100, (struct sockaddr *)&s4, sizeof(s4));
    fakepin_dup(100, 101);
    /* after the quarantine, n1's address is skipped while a descriptor holds it */
    ck_assert_str_eq(fake_at("x1.example", T0 + Q, a), "192.0.2.10");
    fakepin_close(100);
    ck_assert_str_eq(fake_at("x2.example", T0 + Q, a), "192.0.2.11");
    fakepin_close(101);
    /* the last descriptor gone: reusable (its quarantine is long over) */
    ck_assert_str_eq(fake_at("x3.example", T0 + Q, a), "192.0.2.12");
    ck_assert_str_eq(fake_at("x4.example", T0 + Q, a), "192.0.2.13");
    ck_assert_str_eq(fake_at("x5.example", T0 + Q, a), "192.0.2.14");
    ck_assert_str_eq(fake_at("x6.example", T0 + Q, a), "192.0.2.9");
    ck_assert_str_eq(name_of("192.0.2.9", n), "x6.example");

    /* a descriptor connected again leaves its old address */
    inet_pton(AF_INET, "192.0.2.10", &s4.sin_addr); /* x1 */
    fakepin_connect(102, (struct sockaddr *)&s4, sizeof(s4));
    inet_pton(AF_INET, "192.0.2.11", &s4.sin_addr); /* x2 */
    fakepin_connect(102, (struct sockaddr *)&s4, sizeof(s4));
    ck_assert_str_eq(fake_at("y1.example", T0 + 2 * Q, a), "192.0.2.10"); /* x1: unpinned */
    ck_assert_str_eq(fake_at("y2.example", T0 + 2 * Q, a), "192.0.2.12"); /* x2 skipped */
    ck_assert_str_eq(fake_at("y3.example", T0 + 2 * Q, a), "192.0.2.13");
    ck_assert_str_eq(fake_at("y4.example", T0 + 2 * Q, a), "192.0.2.14");
    ck_assert_str_eq(fake_at("y5.example", T0 + 2 * Q, a), "192.0.2.9");
    ck_assert_str_eq(fake_at("y6.example", T0 + 2 * Q, a), "E11"); /* only x2 is old: pinned */
    ck_assert_str_eq(name_of("192.0.2.11", n), "x2.example");
    fakepin_close(102);
    /* a real address pins nothing and costs nothing */
    inet_pton(AF_INET, "203.0.113.5", &s4.sin_addr);
    fakepin_connect(103, (struct sockaddr *)&s4, sizeof(s4));
    fakepin_close(103);
}
END_TEST

/* Every address of the range is used before any is reused: the default /15
 * hands out 131070 names, the last one 198.19.255.254. */
START_TEST(whole_range_is_used)
{
    char a[64], name[32];
    use_defaults();
    for (unsigned i = 0; i < 131070; i++) {
        unsigned char x[4];
        snprintf(name, sizeof(name), "w%u.example", i);
        ck_assert_int_eq(fakeip_for_name_at(name, AF_INET, false, T0, x), 0);
    }
    snprintf(name, sizeof(name), "w%u.example", 131069u);
    ck_assert_str_eq(fake_at(name, T0, a), "198.19.255.254");
    ck_assert_str_eq(fake_at("one-more.example", T0 + 1, a), "E11");
    ck_assert_str_eq(fake_at("one-more.example", T0 + Q, a), "198.18.0.1");
}
END_TEST

/* Names from relayed datagrams hold at most FAKEIP_RELAYED_MAX addresses; a name
 * the program looks up itself is no longer counted as one. */
START_TEST(relayed_names_are_capped)
{
    char name[32];
    unsigned char x[16];
    use_defaults();
    for (int i = 0; i < FAKEIP_RELAYED_MAX; i++) {
        snprintf(name, sizeof(name), "r%d.example", i);
        ck_assert_int_eq(fakeip_for_name_at(name, AF_INET, true, T0, x), 0);
    }
    ck_assert_int_eq(fakeip_for_name_at("extra.example", AF_INET, true, T0, x), EAGAIN);
    /* a name already there is still answered */
    ck_assert_int_eq(fakeip_for_name_at("r3.example", AF_INET, true, T0, x), 0);
    /* the program asks for r0 itself: one relayed slot is free again */
    ck_assert_int_eq(fakeip_for_name_at("r0.example", AF_INET, false, T0, x), 0);
    ck_assert_int_eq(fakeip_for_name_at("extra.example", AF_INET, true, T0, x), 0);
    ck_assert_int_eq(fakeip_for_name_at("extra2.example", AF_INET, true, T0, x), EAGAIN);
    /* the program's own names are not limited by it */
    ck_assert_int_eq(fakeip_for_name_at("mine.example", AF_INET, false, T0, x), 0);
}
END_TEST

START_TEST(is_fake_on_range_edges)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    struct sockaddr_un su = {.sun_family = AF_UNIX};
    use_defaults();
    ck_assert(is_fake_text("198.18.0.0"));
    ck_assert(is_fake_text("198.18.0.1"));
    ck_assert(is_fake_text("198.19.255.255"));
    ck_assert(!is_fake_text("198.17.255.255"));
    ck_assert(!is_fake_text("198.20.0.0"));
    ck_assert(!is_fake_text("203.0.113.1"));
    ck_assert(is_fake_text("fc00::"));
    ck_assert(is_fake_text("fc00:3fff:ffff:ffff:ffff:ffff:ffff:ffff"));
    ck_assert(!is_fake_text("fc00:4000::"));
    ck_assert(!is_fake_text("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    ck_assert(!is_fake_text("2001:db8::1"));
    ck_assert(is_fake_text("::ffff:198.19.0.1"));
    ck_assert(!is_fake_text("::ffff:198.20.0.1"));

    inet_pton(AF_INET, "198.18.0.1", &s4.sin_addr);
    ck_assert(fakeip_is_fake((struct sockaddr *)&s4, sizeof(s4)));
    ck_assert(!fakeip_is_fake((struct sockaddr *)&s4, sizeof(s4) - 9)); /* short: no */
    ck_assert(!fakeip_is_fake(NULL, 0));
    ck_assert(!fakeip_is_fake((struct sockaddr *)&su, sizeof(su)));
}
END_TEST

START_TEST(odd_prefixes)
{
    char a[64], n[FAKEIP_NAME_MAX];
    /* host bits in the configured base are ignored; a /120 has network bits in
     * the low 32 bits of the address */
    use_ranges("192.0.2.77", 30, "2001:db8::1:2ff", 120);
    ck_assert_uint_eq(fakeip_capacity(AF_INET), 2);
    ck_assert_uint_eq(fakeip_capacity(AF_INET6), 254);
    ck_assert_str_eq(fake("x.example", AF_INET, a), "192.0.2.77");
    ck_assert_str_eq(fake("x.example", AF_INET6, a), "2001:db8::1:201");
    ck_assert_str_eq(name_of("2001:db8::1:201", n), "x.example");
    ck_assert_str_eq(name_of("2001:db8::1:200", n), "-");
    ck_assert_str_eq(name_of("2001:db8::1:2ff", n), "-");
    ck_assert(!is_fake_text("2001:db8::1:300"));

    /* a /31 holds no usable address: the family is off */
    use_ranges("192.0.2.0", 31, "2001:db8::", 127);
    unsigned char buf[16];
    ck_assert_uint_eq(fakeip_capacity(AF_INET), 0);
    ck_assert_int_eq(fakeip_for_name("x.example", AF_INET, buf), EAFNOSUPPORT);
    ck_assert_int_eq(fakeip_for_name("x.example", AF_INET6, buf), EAFNOSUPPORT);
    ck_assert(!is_fake_text("192.0.2.0"));
}
END_TEST

START_TEST(non_fake_and_unused_addresses)
{
    char n[FAKEIP_NAME_MAX];
    use_defaults();
    ck_assert_str_eq(name_of("203.0.113.1", n), "-");
    ck_assert_str_eq(name_of("2001:db8::1", n), "-");
    ck_assert_str_eq(name_of("198.18.0.1", n), "-"); /* in range, never handed out */
    ck_assert_str_eq(name_of("198.18.0.0", n), "-");
    ck_assert_str_eq(name_of("198.19.255.255", n), "-");
    ck_assert_str_eq(name_of("fc00:0:0:1::1", n), "-"); /* far beyond the table */
    ck_assert_str_eq(name_of("fc00::", n), "-");
}
END_TEST

START_TEST(bad_names_and_small_buffers)
{
    unsigned char a[16];
    char longname[300], small[4];
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    use_defaults();
    ck_assert_int_eq(fakeip_for_name("", AF_INET, a), EINVAL);
    ck_assert_int_eq(fakeip_for_name(".", AF_INET, a), EINVAL);
    ck_assert_int_eq(fakeip_for_name(NULL, AF_INET, a), EINVAL);
    ck_assert_int_eq(fakeip_for_name("a b", AF_INET, a), EINVAL);
    ck_assert_int_eq(fakeip_for_name("a\nb", AF_INET, a), EINVAL);
    ck_assert_int_eq(fakeip_for_name("ok.example", AF_UNIX, a), EAFNOSUPPORT);
    memset(longname, 'x', 253);
    longname[253] = '\0';
    ck_assert_int_eq(fakeip_for_name(longname, AF_INET, a), 0);
    longname[253] = 'x';
    longname[254] = '\0';
    ck_assert_int_eq(fakeip_for_name(longname, AF_INET, a), EINVAL);

    ck_assert_int_eq(fakeip_for_name("truncated.example", AF_INET, a), 0);
    memcpy(&s4.sin_addr, a, 4);
    ck_assert(fakeip_lookup((struct sockaddr *)&s4, sizeof(s4), small, sizeof(small)));
    ck_assert_str_eq(small, "tru");
}
END_TEST

START_TEST(free_disables)
{
    unsigned char a[16];
    use_defaults();
    ck_assert_int_eq(fakeip_for_name("a.example", AF_INET, a), 0);
    fakeip_free();
    ck_assert(!fakeip_is_fake_addr(AF_INET, a));
    ck_assert_int_eq(fakeip_for_name("a.example", AF_INET, a), EAFNOSUPPORT);
    ck_assert_int_eq(fakeip_init(NULL), 0); /* no configuration: the default ranges */
    char buf[64];
    ck_assert_str_eq(fake("b.example", AF_INET, buf), "198.18.0.1");
    ck_assert_str_eq(fake("b.example", AF_INET6, buf), "fc00::1");
}
END_TEST

/* ---- threads ---- */

#define THREADS 16
#define NAMES   400
#define ROUNDS  3000

struct worker {
    int id;
    bool ok;
    uint32_t seen[NAMES]; /* the IPv4 fake address this thread got per name */
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    unsigned seed = (unsigned)w->id * 7919u + 1;
    char name[32], back[FAKEIP_NAME_MAX];

    w->ok = true;
    for (int r = 0; r < ROUNDS; r++) {
        int k = (int)(rand_r(&seed) % NAMES);
        int family = (r & 1) ? AF_INET6 : AF_INET;
        unsigned char a[16];
        snprintf(name, sizeof(name), "host%d.example", k);
        if (fakeip_for_name(name, family, a) != 0 || !fakeip_is_fake_addr(family, a) ||
            !fakeip_lookup_addr(family, a, back, sizeof(back)) || strcmp(back, name) != 0) {
            w->ok = false;
            continue;
        }
        if (family == AF_INET) {
            uint32_t v;
            memcpy(&v, a, 4);
            if (w->seen[k] && w->seen[k] != v)
                w->ok = false;
            w->seen[k] = v;
        }
    }
    return NULL;
}

START_TEST(threads_agree)
{
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    use_defaults();
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(w[i].ok, "thread %d saw an inconsistent mapping", i);
        for (int k = 0; k < NAMES; k++)
            for (int j = 0; j < i; j++)
                if (w[i].seen[k] && w[j].seen[k])
                    ck_assert_uint_eq(w[i].seen[k], w[j].seen[k]);
    }
}
END_TEST

static void *churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    char name[32], back[FAKEIP_NAME_MAX];
    unsigned char a[16];

    for (int r = 0; r < ROUNDS; r++) {
        /* the clock runs a quarantine per 50 rounds: addresses come free */
        uint32_t now = T0 + (uint32_t)(r / 50) * Q;
        snprintf(name, sizeof(name), "c%u.example", rand_r(&seed) % 2000);
        int err = fakeip_for_name_at(name, AF_INET, false, now, a);
        if (err == EAGAIN)
            continue;
        if (err != 0 || !fakeip_is_fake_addr(AF_INET, a))
            return (void *)1;
        fakeip_lookup_addr(AF_INET, a, back, sizeof(back)); /* may be recycled already */
    }
    return NULL;
}

/* Reuse under contention: afterwards every slot holds a distinct name that maps
 * back to that slot. */
START_TEST(threads_recycling_stays_consistent)
{
    pthread_t t[THREADS];
    void *res;
    char addr[64], name[FAKEIP_NAME_MAX], again[64];
    use_ranges("192.0.2.0", 24, "2001:db8::", 64);
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], &res);
        ck_assert_ptr_null(res);
    }
    for (int i = 1; i <= 254; i++) {
        snprintf(addr, sizeof(addr), "192.0.2.%d", i);
        ck_assert_str_ne(name_of(addr, name), "-");
        ck_assert_str_eq(fake_at(name, T0 + 1000 * Q, again), addr);
    }
}
END_TEST

START_TEST(fork_child_has_table_and_lock)
{
    char a[64];
    use_defaults();
    fake("before.example", AF_INET, a);
    fakeip_atfork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
        char n[FAKEIP_NAME_MAX], b[64];
        unsigned char x[16];
        fakeip_atfork_child();
        bool ok = fakeip_for_name("child.example", AF_INET, x) == 0 &&
                  strcmp(inet_ntop(AF_INET, x, b, sizeof(b)), "198.18.0.2") == 0 &&
                  fakeip_lookup_addr(AF_INET, x, n, sizeof(n)) && !strcmp(n, "child.example");
        _exit(ok ? 0 : 1);
    }
    fakeip_atfork_parent();
    ck_assert_int_gt(pid, 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(fake("after.example", AF_INET, a), "198.18.0.2");
}
END_TEST

int main(void)
{
    sys_init_default();
    Suite *s = suite_create("fakeip");
    TCase *tc = tcase_create("table");
    TCase *tt = tcase_create("threads");

    tcase_add_test(tc, same_name_same_address);
    tcase_add_test(tc, both_families);
    tcase_add_test(tc, full_table_refuses_within_quarantine);
    tcase_add_test(tc, reuse_after_quarantine_in_order);
    tcase_add_test(tc, pinned_address_is_never_reused);
    tcase_add_test(tc, descriptor_pins_follow_close_and_dup);
    tcase_add_test(tc, whole_range_is_used);
    tcase_add_test(tc, relayed_names_are_capped);
    tcase_add_test(tc, is_fake_on_range_edges);
    tcase_add_test(tc, odd_prefixes);
    tcase_add_test(tc, non_fake_and_unused_addresses);
    tcase_add_test(tc, bad_names_and_small_buffers);
    tcase_add_test(tc, free_disables);
    tcase_add_test(tc, fork_child_has_table_and_lock);
    tcase_set_timeout(tt, 30);
    tcase_set_timeout(tc, 60); /* the whole /15 walked: a watchdog, not a measure */
    tcase_add_test(tt, threads_agree);
    tcase_add_test(tt, threads_recycling_stays_consistent);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tt);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
