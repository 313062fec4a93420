/* Option mapping: each dialer key lands on the socket as the kernel option it
 * names, read back with getsockopt; refusals name the option. Needs root for
 * SO_MARK (CI runs as root); that case is skipped otherwise. */
#include "common/sockopt.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

static int get_int(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof(v);

    ck_assert_int_eq(getsockopt(fd, level, name, &v, &len), 0);
    return v;
}

START_TEST(nothing_set_touches_nothing)
{
    struct conf_dialer d = {0};
    const char *failed = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);

    ck_assert(sockopt_none(&d));
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    ck_assert_int_eq(a.sin_port, 0); /* not bound */
    ck_assert_int_eq(get_int(fd, SOL_SOCKET, SO_REUSEADDR), 0);
    close(fd);
}
END_TEST

START_TEST(interface_bind_tfo)
{
    struct conf_dialer d = {0};
    const char *failed = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char dev[IF_NAMESIZE] = "";
    socklen_t len = sizeof(dev);
    struct sockaddr_in a;

    strcpy(d.bind_interface, "lo");
    d.has_inet4_bind = true;
    inet_pton(AF_INET, "127.0.0.1", &d.inet4_bind);
    d.bind_address_no_port = true;
    d.tcp_fast_open = true;
    d.reuse_addr = true;
    ck_assert(!sockopt_none(&d));
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), 0);
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len), 0);
    ck_assert_str_eq(dev, "lo");
    ck_assert_int_eq(get_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT), 1);
    ck_assert_int_eq(get_int(fd, SOL_SOCKET, SO_REUSEADDR), 1);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT), 1);
    len = sizeof(a);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    ck_assert_int_eq(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    ck_assert_int_eq(a.sin_port, 0); /* no port reserved before connect */
    close(fd);
}
END_TEST

START_TEST(udp_options)
{
    struct conf_dialer d = {0};
    const char *failed = NULL;
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    struct sockaddr_in6 a;
    socklen_t len = sizeof(a);

    d.udp_fragment = TRI_FALSE;
    d.reuse_addr = true;
    d.has_inet6_bind = true;
    d.inet6_bind = in6addr_loopback;
    d.tcp_fast_open = true; /* TCP only: must not fail on UDP */
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET6, SOCK_DGRAM, &failed), 0);
    ck_assert_int_eq(get_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER), IP_PMTUDISC_DO);
    ck_assert_int_eq(get_int(fd, SOL_SOCKET, SO_REUSEPORT), 1);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    ck_assert(IN6_IS_ADDR_LOOPBACK(&a.sin6_addr));
    close(fd);

    fd = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&d, 0, sizeof(d));
    d.udp_fragment = TRI_TRUE;
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_DGRAM, &failed), 0);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DONT);
    close(fd);
}
END_TEST

START_TEST(mark)
{
    struct conf_dialer d = {0};
    const char *failed = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    d.has_mark = true;
    d.routing_mark = 0x64;
    if (geteuid() != 0) {
        ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), EPERM);
        ck_assert_str_eq(failed, "routing_mark");
    } else {
        ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), 0);
        ck_assert_int_eq(get_int(fd, SOL_SOCKET, SO_MARK), 0x64);
    }
    close(fd);
}
END_TEST

START_TEST(refusals_name_the_option)
{
    struct conf_dialer d = {0};
    const char *failed = NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    strcpy(d.bind_interface, "nosuchif0");
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), ENODEV);
    ck_assert_str_eq(failed, "bind_interface");
    close(fd);

    /* an address this host does not have */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&d, 0, sizeof(d));
    d.has_inet4_bind = true;
    inet_pton(AF_INET, "192.0.2.254", &d.inet4_bind);
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), EADDRNOTAVAIL);
    ck_assert_str_eq(failed, "inet4_bind_address (not an address of this host; ip_transparent = "
                             "true allows that)");
    close(fd);

    /* an IPv6 bind address is not applied to an IPv4 destination */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&d, 0, sizeof(d));
    d.has_inet6_bind = true;
    d.inet6_bind = in6addr_loopback;
    ck_assert_int_eq(sockopt_apply(&d, fd, AF_INET, SOCK_STREAM, &failed), 0);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sockopt");
    TCase *t = tcase_create("sockopt");
    SRunner *r;
    int failed;

    sys_init_default();
    tcase_add_test(t, nothing_set_touches_nothing);
    tcase_add_test(t, interface_bind_tfo);
    tcase_add_test(t, udp_options);
    tcase_add_test(t, mark);
    tcase_add_test(t, refusals_name_the_option);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
