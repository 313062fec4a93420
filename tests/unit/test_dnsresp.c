/* dnsresp: DNS queries answered in the process, with callbacks standing in for
 * the route and the fake-address table. Queries are built here as resolvers send
 * them (dig adds an EDNS OPT record; glibc does not). */
#include "common/dnsresp.h"

#include <arpa/inet.h>
#include <check.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

static int lookups;

static enum dnsresp_way way(void *ctx, const char *name)
{
    size_t n = strlen(name);
    (void)ctx;
    if (n >= 7 && strcmp(name + n - 7, ".direct") == 0)
        return DNSRESP_PASS;
    if (strcmp(name, "refused.example") == 0)
        return DNSRESP_REFUSE;
    return DNSRESP_ANSWER;
}

static int lookup(void *ctx, const char *name, int family, struct dns_addr *out, size_t cap,
                  size_t *n)
{
    (void)ctx, (void)cap;
    lookups++;
    if (strcmp(name, "nx.example") == 0)
        return EAI_NONAME;
    if (strcmp(name, "full.example") == 0)
        return EAI_AGAIN;
    if (family == AF_INET6 && strcmp(name, "v4only.example") == 0)
        return EAI_ADDRFAMILY;
    memset(out, 0, sizeof(*out));
    out->family = family;
    if (family == AF_INET)
        inet_pton(AF_INET, "198.18.0.5", out->addr);
    else
        inet_pton(AF_INET6, "fc00::5", out->addr);
    *n = 1;
    return 0;
}

static bool name_of(void *ctx, const struct dns_addr *a, char *name, size_t cap)
{
    uint8_t v4[4], v6[16];
    (void)ctx;
    inet_pton(AF_INET, "198.18.0.5", v4);
    inet_pton(AF_INET6, "fc00::5", v6);
    if ((a->family == AF_INET && memcmp(a->addr, v4, 4) == 0) ||
        (a->family == AF_INET6 && memcmp(a->addr, v6, 16) == 0)) {
        strncpy(name, "www.Example.com", cap);
        return true;
    }
    return false;
}

static const struct dnsresp_ops ops = {NULL, way, lookup, name_of};

/* A query for NAME of TYPE (class IN), ID 0x1234, RD; EDNS: an OPT record. */
static size_t query(uint8_t *m, const char *name, unsigned type, bool edns)
{
    size_t off = 12;
    memset(m, 0, 12);
    m[0] = 0x12, m[1] = 0x34, m[2] = 0x01, m[5] = 1, m[11] = edns;
    for (const char *p = name; *p;) {
        size_t l = strcspn(p, ".");
        m[off++] = (uint8_t)l;
        memcpy(m + off, p, l);
        off += l;
        p += l + (p[l] == '.');
    }
    m[off++] = 0;
    m[off++] = (uint8_t)(type >> 8), m[off++] = (uint8_t)type, m[off++] = 0, m[off++] = 1;
    if (edns) { /* root name, OPT, 1232-byte payload, no options */
        static const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
        memcpy(m + off, opt, sizeof(opt));
        off += sizeof(opt);
    }
    return off;
}

static unsigned g16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

START_TEST(a_and_aaaa_get_fake_addresses)
{
    uint8_t m[512], out[512], want[16];
    size_t qn = query(m, "WwW.example.com", DNSRESP_T_A, true);
    size_t qlen = qn - 11 - 12;
    int n = dnsresp_respond(m, qn, &ops, out, sizeof(out));

    ck_assert_int_eq(n, 12 + (int)qlen + 16);
    ck_assert_uint_eq(g16(out), 0x1234);
    ck_assert_uint_eq(out[2], 0x81); /* QR, RD */
    ck_assert_uint_eq(out[3], 0x80); /* RA, NOERROR */
    ck_assert_uint_eq(g16(out + 4), 1);
    ck_assert_uint_eq(g16(out + 6), 1);
    ck_assert_uint_eq(g16(out + 10), 0);
    ck_assert(memcmp(out + 12, m + 12, qlen) == 0); /* case kept */
    ck_assert_uint_eq(g16(out + 12 + qlen), 0xc00c);
    ck_assert_uint_eq(g16(out + 12 + qlen + 2), DNSRESP_T_A);
    ck_assert_uint_eq(g16(out + 12 + qlen + 8), DNSRESP_TTL);
    ck_assert_uint_eq(g16(out + 12 + qlen + 10), 4);
    inet_pton(AF_INET, "198.18.0.5", want);
    ck_assert(memcmp(out + n - 4, want, 4) == 0);

    qn = query(m, "www.example.com", DNSRESP_T_AAAA, false);
    n = dnsresp_respond(m, qn, &ops, out, sizeof(out));
    ck_assert_int_eq(n, (int)qn + 12 + 16);
    inet_pton(AF_INET6, "fc00::5", want);
    ck_assert(memcmp(out + n - 16, want, 16) == 0);
}
END_TEST

START_TEST(ptr_of_a_fake_address_gives_its_name)
{
    uint8_t m[512], out[512];
    static const uint8_t name[] = "\3www\7Example\3com";
    size_t qn = query(m, "5.0.18.198.in-addr.arpa", DNSRESP_T_PTR, false);
    int n = dnsresp_respond(m, qn, &ops, out, sizeof(out));

    ck_assert_int_eq(n, (int)qn + 12 + (int)sizeof(name));
    ck_assert_uint_eq(g16(out + 6), 1);
    ck_assert_uint_eq(g16(out + qn + 2), DNSRESP_T_PTR);
    ck_assert(memcmp(out + qn + 12, name, sizeof(name)) == 0);

    qn = query(m, "5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.F.ip6.arpa",
               DNSRESP_T_PTR, false);
    n = dnsresp_respond(m, qn, &ops, out, sizeof(out));
    ck_assert_int_eq(n, (int)qn + 12 + (int)sizeof(name));

    /* an address the table does not know: empty NOERROR */
    qn = query(m, "6.0.18.198.in-addr.arpa", DNSRESP_T_PTR, false);
    n = dnsresp_respond(m, qn, &ops, out, sizeof(out));
    ck_assert_int_eq(n, (int)qn);
    ck_assert_uint_eq(out[3], 0x80);
    ck_assert_uint_eq(g16(out + 6), 0);
}
END_TEST

START_TEST(other_types_empty_noerror_and_rcodes)
{
    uint8_t m[512], out[512];
    size_t qn = query(m, "www.example.com", 65 /* HTTPS */, true);
    int n;

    lookups = 0;
    n = dnsresp_respond(m, qn, &ops, out, sizeof(out));
    ck_assert_int_eq(n, (int)qn - 11);
    ck_assert_uint_eq(out[3], 0x80);
    ck_assert_uint_eq(g16(out + 6), 0);
    ck_assert_int_eq(lookups, 0);

    qn = query(m, "nx.example", DNSRESP_T_A, false);
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, sizeof(out)), (int)qn);
    ck_assert_uint_eq(out[3], 0x80 | DNSRESP_NXDOMAIN);
    qn = query(m, "full.example", DNSRESP_T_A, false);
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, sizeof(out)), (int)qn);
    ck_assert_uint_eq(out[3], 0x80 | DNSRESP_SERVFAIL);
    qn = query(m, "v4only.example", DNSRESP_T_AAAA, false);
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, sizeof(out)), (int)qn);
    ck_assert_uint_eq(out[3], 0x80);
    qn = query(m, "refused.example", DNSRESP_T_A, false);
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, sizeof(out)), (int)qn);
    ck_assert_uint_eq(out[3], 0x80 | DNSRESP_REFUSED);
    qn = query(m, "host.direct", DNSRESP_T_A, false);
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, sizeof(out)), 0);
}
END_TEST

START_TEST(only_plain_queries_parse)
{
    uint8_t m[512], out[512], bad[512];
    size_t qn = query(m, "www.example.com", DNSRESP_T_A, false);
    struct dnsresp_query q;

    for (size_t i = 0; i < qn; i++) /* every prefix: no read past it */
        ck_assert_int_eq(dnsresp_respond(m, i, &ops, out, sizeof(out)), -1);
    ck_assert(dnsresp_parse(m, qn, &q));
    ck_assert_str_eq(q.name, "www.example.com");
    memcpy(bad, m, qn);
    bad[2] |= 0x80; /* a response */
    ck_assert(!dnsresp_parse(bad, qn, &q));
    memcpy(bad, m, qn);
    bad[2] |= 0x28; /* opcode 5, UPDATE */
    ck_assert(!dnsresp_parse(bad, qn, &q));
    memcpy(bad, m, qn);
    bad[5] = 2; /* two questions */
    ck_assert(!dnsresp_parse(bad, qn, &q));
    memcpy(bad, m, qn);
    bad[12] = 0xc0; /* a compression pointer in a question */
    ck_assert(!dnsresp_parse(bad, qn, &q));
    memcpy(bad, m, qn);
    bad[14] = '.'; /* a dot inside a label */
    ck_assert(!dnsresp_parse(bad, qn, &q));
    /* the answer does not fit: -1; room for the header and question only: TC */
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, qn - 1), -1);
    ck_assert_int_eq(dnsresp_respond(m, qn, &ops, out, qn + 4), (int)qn);
    ck_assert_uint_eq(out[2] & 0x02, 0x02);
    ck_assert_uint_eq(g16(out + 6), 0);
    /* a bare answer to what cannot be parsed */
    ck_assert_int_eq(dnsresp_rcode(bad, qn, DNSRESP_FORMERR, out, sizeof(out)), 12);
    ck_assert_uint_eq(out[3], 0x80 | DNSRESP_FORMERR);
    ck_assert_int_eq(dnsresp_rcode(bad, 11, DNSRESP_FORMERR, out, sizeof(out)), -1);
}
END_TEST

START_TEST(arpa_names)
{
    struct dns_addr a;

    ck_assert(dnsresp_arpa_addr("1.2.0.192.in-addr.arpa", &a));
    ck_assert_int_eq(a.family, AF_INET);
    ck_assert_uint_eq(a.addr[0], 192);
    ck_assert_uint_eq(a.addr[3], 1);
    ck_assert(dnsresp_arpa_addr("1.2.0.192.IN-ADDR.ARPA", &a));
    ck_assert(!dnsresp_arpa_addr("01.2.0.192.in-addr.arpa", &a));
    ck_assert(!dnsresp_arpa_addr("2.0.192.in-addr.arpa", &a));
    ck_assert(!dnsresp_arpa_addr("256.2.0.192.in-addr.arpa", &a));
    ck_assert(!dnsresp_arpa_addr("1.1.2.0.192.in-addr.arpa", &a));
    ck_assert(!dnsresp_arpa_addr("in-addr.arpa", &a));
    ck_assert(!dnsresp_arpa_addr("1.0.ip6.arpa", &a));
    ck_assert(!dnsresp_arpa_addr("www.example.com", &a));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dnsresp");
    TCase *t = tcase_create("dnsresp");
    SRunner *r;
    int failed;

    tcase_add_test(t, a_and_aaaa_get_fake_addresses);
    tcase_add_test(t, ptr_of_a_fake_address_gives_its_name);
    tcase_add_test(t, other_types_empty_noerror_and_rcodes);
    tcase_add_test(t, only_plain_queries_parse);
    tcase_add_test(t, arpa_names);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
