/* addr: reading a destination as the kernel does. A 24-byte sockaddr_in6 (RFC
 * 2133, no sin6_scope_id) is a full destination with scope 0; an AF_UNSPEC one is
 * read as the family asked for; anything shorter than the kernel takes is refused. */
#include "common/addr.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct sockaddr_in6 in6(const char *ip, uint16_t port, uint32_t scope)
{
    struct sockaddr_in6 a = {
        .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_scope_id = scope};
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

START_TEST(min_lengths_and_is_inet)
{
    struct sockaddr_in6 a = in6("2001:db8::1", 80, 0);
    struct sockaddr_in b = {.sin_family = AF_INET};

    ck_assert_uint_eq(addr_min_len(AF_INET), 16);
    ck_assert_uint_eq(addr_min_len(AF_INET6), 24);
    ck_assert_uint_eq(addr_min_len(AF_UNIX), 0);
    ck_assert(addr_is_inet((struct sockaddr *)&a, 24));
    ck_assert(addr_is_inet((struct sockaddr *)&a, 28));
    ck_assert(!addr_is_inet((struct sockaddr *)&a, 23));
    ck_assert(addr_is_inet((struct sockaddr *)&b, 16));
    ck_assert(!addr_is_inet((struct sockaddr *)&b, 15));
    ck_assert(!addr_is_inet(NULL, 16));
    ck_assert(!addr_is_inet((struct sockaddr *)&b, 1));
}
END_TEST

START_TEST(full_addresses_are_not_copied)
{
    struct sockaddr_in6 a = in6("2001:db8::1", 80, 3), buf;
    struct sockaddr_storage big;
    socklen_t len = 0;

    ck_assert_ptr_eq(addr_read((struct sockaddr *)&a, 28, AF_INET6, &buf, &len), &a);
    ck_assert_uint_eq(len, 28);
    memset(&big, 0, sizeof(big));
    memcpy(&big, &a, sizeof(a));
    ck_assert_ptr_eq(addr_read((struct sockaddr *)&big, sizeof(big), AF_INET6, &buf, &len), &big);
    ck_assert_uint_eq(len, sizeof(big)); /* handed on as the program gave it */
}
END_TEST

START_TEST(rfc2133_sockaddr_in6)
{
    struct sockaddr_in6 a = in6("2001:db8::1", 443, 0x55555555), buf;
    const struct sockaddr_in6 *r;
    socklen_t len = 0;

    r = (const struct sockaddr_in6 *)addr_read((struct sockaddr *)&a, 24, AF_INET6, &buf, &len);
    ck_assert_ptr_eq(r, &buf);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
    ck_assert_int_eq(r->sin6_family, AF_INET6);
    ck_assert_int_eq(ntohs(r->sin6_port), 443);
    ck_assert_int_eq(memcmp(&r->sin6_addr, &a.sin6_addr, 16), 0);
    ck_assert_uint_eq(r->sin6_scope_id, 0); /* beyond the 24 bytes: never read */
    ck_assert_int_eq(addr_port((const struct sockaddr *)r), 443);
    ck_assert_ptr_null(addr_read((struct sockaddr *)&a, 23, AF_INET6, &buf, &len));
    ck_assert_ptr_null(addr_read((struct sockaddr *)&a, 2, AF_INET6, &buf, &len));
}
END_TEST

START_TEST(unspec_read_as_a_family)
{
    struct sockaddr_in a = {.sin_family = AF_UNSPEC, .sin_port = htons(53)}, b = a;
    struct sockaddr_in6 buf, c = in6("2001:db8::7", 9, 0);
    const struct sockaddr_in *r;
    socklen_t len = 0;

    a.sin_addr.s_addr = htonl(0xcb007102);
    r = (const struct sockaddr_in *)addr_read((struct sockaddr *)&a, 16, AF_INET, &buf, &len);
    ck_assert_ptr_eq(r, (void *)&buf);
    ck_assert_uint_eq(len, 16);
    ck_assert_int_eq(r->sin_family, AF_INET);
    ck_assert_uint_eq(ntohl(r->sin_addr.s_addr), 0xcb007102);
    ck_assert_int_eq(ntohs(r->sin_port), 53);
    ck_assert_ptr_null(addr_read((struct sockaddr *)&b, 15, AF_INET, &buf, &len));
    c.sin6_family = AF_UNSPEC;
    ck_assert_ptr_eq(addr_read((struct sockaddr *)&c, 28, AF_INET6, &buf, &len), (void *)&buf);
    ck_assert_int_eq(buf.sin6_family, AF_INET6);
    ck_assert_ptr_null(addr_read((struct sockaddr *)&c, 28, AF_UNIX, &buf, &len));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("addr");
    TCase *t = tcase_create("addr");
    SRunner *r;
    int failed;

    tcase_add_test(t, min_lengths_and_is_inet);
    tcase_add_test(t, full_addresses_are_not_copied);
    tcase_add_test(t, rfc2133_sockaddr_in6);
    tcase_add_test(t, unspec_read_as_a_family);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
