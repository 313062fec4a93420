/* strategy: filtering, family preference and Happy Eyeballs interleaving. */
#include "common/strategy.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Addresses are written as labels: "4a" is an IPv4 address tagged 'a', "6b" an
 * IPv6 one tagged 'b'; "9x" an entry of some other family. */
static size_t parse(const char *spec, struct dns_addr *out)
{
    static const uint8_t v4[4] = {192, 0, 2, 0}, v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    size_t n = 0;

    for (const char *p = spec; *p; p += p[2] ? 3 : 2, n++) {
        memset(&out[n], 0, sizeof(out[n]));
        out[n].family = p[0] == '4' ? AF_INET : p[0] == '6' ? AF_INET6 : AF_UNIX;
        memcpy(out[n].addr, p[0] == '4' ? v4 : v6, p[0] == '4' ? 4 : 16);
        out[n].addr[p[0] == '4' ? 3 : 15] = (uint8_t)p[1];
    }
    return n;
}

static const char *show(const struct dns_addr *a, size_t n, char *buf)
{
    char *w = buf;

    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ' ';
        *w++ = a[i].family == AF_INET ? '4' : a[i].family == AF_INET6 ? '6' : '9';
        *w++ = (char)(a[i].family == AF_INET ? a[i].addr[3] : a[i].addr[15]);
    }
    *w = '\0';
    return buf;
}

typedef size_t (*order_fn)(enum strategy, const struct dns_addr *, size_t, struct dns_addr *,
                           size_t);

static void expect(order_fn fn, enum strategy s, const char *in, const char *want, size_t cap)
{
    struct dns_addr a[32], out[32];
    char buf[128];
    size_t n = parse(in, a);
    memset(out, 0xee, sizeof(out));
    size_t m = fn(s, a, n, out, cap);
    ck_assert_str_eq(show(out, m, buf), want);
    ck_assert_uint_le(m, cap);
}

static void apply(enum strategy s, const char *in, const char *want)
{
    expect(strategy_apply, s, in, want, 32);
}

static void he(enum strategy s, const char *in, const char *want)
{
    expect(strategy_happy_eyeballs, s, in, want, 32);
}

START_TEST(apply_as_is_keeps_order)
{
    apply(STRATEGY_AS_IS, "4a 6a 4b 6b", "4a 6a 4b 6b");
    apply(STRATEGY_AS_IS, "6a 4a", "6a 4a");
    apply(STRATEGY_UNSET, "6a 4a 4b", "6a 4a 4b");
}
END_TEST

START_TEST(apply_prefer_moves_family_first)
{
    apply(STRATEGY_PREFER_IPV4, "6a 4a 6b 4b", "4a 4b 6a 6b");
    apply(STRATEGY_PREFER_IPV6, "4a 6a 4b 6b", "6a 6b 4a 4b");
    apply(STRATEGY_PREFER_IPV6, "4a 4b 4c", "4a 4b 4c");
    apply(STRATEGY_PREFER_IPV4, "6c 6b 6a", "6c 6b 6a");
}
END_TEST

START_TEST(apply_only_filters)
{
    apply(STRATEGY_IPV4_ONLY, "6a 4a 6b 4b", "4a 4b");
    apply(STRATEGY_IPV6_ONLY, "6a 4a 6b 4b", "6a 6b");
    apply(STRATEGY_IPV6_ONLY, "4a 4b", "");
    apply(STRATEGY_IPV4_ONLY, "6a", "");
}
END_TEST

START_TEST(apply_empty_and_foreign_families)
{
    for (int s = STRATEGY_AS_IS; s <= STRATEGY_IPV6_ONLY; s++) {
        apply((enum strategy)s, "", "");
        he((enum strategy)s, "", "");
    }
    apply(STRATEGY_AS_IS, "9x 4a 9y 6a", "4a 6a");
    apply(STRATEGY_PREFER_IPV6, "9x 4a 9y 6a", "6a 4a");
    he(STRATEGY_AS_IS, "9x 6a 4a 4b", "6a 4a 4b");
}
END_TEST

START_TEST(apply_respects_cap)
{
    expect(strategy_apply, STRATEGY_PREFER_IPV6, "4a 6a 4b 6b", "6a 6b 4a", 3);
    expect(strategy_apply, STRATEGY_AS_IS, "4a 6a", "", 0);
    expect(strategy_happy_eyeballs, STRATEGY_PREFER_IPV6, "6a 6b 4a 4b", "6a 4a 6b", 3);
    expect(strategy_happy_eyeballs, STRATEGY_AS_IS, "6a 4a", "6a", 1);
}
END_TEST

START_TEST(he_interleaves_preferred_first)
{
    he(STRATEGY_PREFER_IPV6, "6a 6b 4a 4b", "6a 4a 6b 4b");
    he(STRATEGY_PREFER_IPV6, "4a 4b 6a 6b", "6a 4a 6b 4b");
    he(STRATEGY_PREFER_IPV4, "6a 6b 4a 4b", "4a 6a 4b 6b");
    he(STRATEGY_PREFER_IPV4, "4a 6a 4b 6b 4c", "4a 6a 4b 6b 4c");
}
END_TEST

START_TEST(he_as_is_starts_with_first_family)
{
    he(STRATEGY_AS_IS, "4a 4b 4c 6a", "4a 6a 4b 4c");
    he(STRATEGY_AS_IS, "6a 4a 4b 4c", "6a 4a 4b 4c");
    he(STRATEGY_AS_IS, "6a 6b 6c 4a 4b", "6a 4a 6b 4b 6c");
    he(STRATEGY_UNSET, "4a 6a 6b 6c", "4a 6a 6b 6c");
}
END_TEST

START_TEST(he_uneven_and_single_family)
{
    he(STRATEGY_PREFER_IPV6, "6a 4a 4b 4c", "6a 4a 4b 4c");
    he(STRATEGY_PREFER_IPV6, "4a 4b", "4a 4b");
    he(STRATEGY_PREFER_IPV4, "6a 6b", "6a 6b");
    he(STRATEGY_AS_IS, "4a", "4a");
}
END_TEST

START_TEST(he_only_filters_without_interleaving)
{
    he(STRATEGY_IPV4_ONLY, "6a 4a 6b 4b", "4a 4b");
    he(STRATEGY_IPV6_ONLY, "6a 4a 6b 4b", "6a 6b");
    he(STRATEGY_IPV6_ONLY, "4a", "");
}
END_TEST

START_TEST(he_keeps_address_bytes)
{
    struct dns_addr in[2], out[2];
    parse("6z 4y", in);
    in[0].scope_id = 7;
    in[1].ttl = 42;
    ck_assert_uint_eq(strategy_happy_eyeballs(STRATEGY_PREFER_IPV4, in, 2, out, 2), 2);
    ck_assert_mem_eq(&out[0], &in[1], sizeof(out[0]));
    ck_assert_mem_eq(&out[1], &in[0], sizeof(out[1]));
}
END_TEST

START_TEST(query_family)
{
    ck_assert_int_eq(strategy_query_family(STRATEGY_AS_IS, AF_UNSPEC), AF_UNSPEC);
    ck_assert_int_eq(strategy_query_family(STRATEGY_PREFER_IPV6, AF_INET), AF_INET);
    ck_assert_int_eq(strategy_query_family(STRATEGY_PREFER_IPV4, AF_UNSPEC), AF_UNSPEC);
    ck_assert_int_eq(strategy_query_family(STRATEGY_IPV4_ONLY, AF_UNSPEC), AF_INET);
    ck_assert_int_eq(strategy_query_family(STRATEGY_IPV4_ONLY, AF_INET), AF_INET);
    ck_assert_int_eq(strategy_query_family(STRATEGY_IPV4_ONLY, AF_INET6), -1);
    ck_assert_int_eq(strategy_query_family(STRATEGY_IPV6_ONLY, AF_UNSPEC), AF_INET6);
    ck_assert_int_eq(strategy_query_family(STRATEGY_IPV6_ONLY, AF_INET), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("strategy");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, apply_as_is_keeps_order);
    tcase_add_test(tc, apply_prefer_moves_family_first);
    tcase_add_test(tc, apply_only_filters);
    tcase_add_test(tc, apply_empty_and_foreign_families);
    tcase_add_test(tc, apply_respects_cap);
    tcase_add_test(tc, he_interleaves_preferred_first);
    tcase_add_test(tc, he_as_is_starts_with_first_family);
    tcase_add_test(tc, he_uneven_and_single_family);
    tcase_add_test(tc, he_only_filters_without_interleaving);
    tcase_add_test(tc, he_keeps_address_bytes);
    tcase_add_test(tc, query_family);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
