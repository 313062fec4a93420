/* resolve_dial: the ResolveDialer dials the address it resolved for a fake one
 * and hands the caller's struct dial back as it came: sa, len and host must not
 * point into the dialer's own stack frame once it has returned. The name is in
 * the resolver's hosts file and the socket is UDP on loopback, so the dial is a
 * connect(2) that sends nothing. */
#include "common/dialer/dialer.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char hosts_path[] = "/tmp/test_resolve_hosts.XXXXXX";

static void report(void *ctx, const char *file, int line, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
}

static struct conf *load(void)
{
    static const char hosts[] = "127.0.0.7 r.test\n";
    char text[512];
    int fd = mkstemp(hosts_path);

    if (fd < 0 || write(fd, hosts, sizeof(hosts) - 1) != (ssize_t)sizeof(hosts) - 1)
        abort();
    close(fd);
    snprintf(text, sizeof(text),
             "[resolver local]\nservers = 127.0.0.1:9\nhosts_file = %s\n\n"
             "[dialer direct_local]\ndomain_resolver = local\n\n"
             "[app test]\nmatch = *\ndialer = direct_local\n",
             hosts_path);
    return conf_load_string("resolve.ini", text, report, NULL);
}

START_TEST(dial_struct_is_the_callers_again)
{
    struct conf *c = load();
    struct sockaddr_in fake = {.sin_family = AF_INET, .sin_port = htons(5353)};
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    static const char name[] = "r.test";
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    char text[INET_ADDRSTRLEN];

    ck_assert_ptr_nonnull(c);
    inet_pton(AF_INET, "198.18.0.5", &fake.sin_addr);
    struct dial d = {.conf = c,
                     .dialer = conf_dialer_index(c, "direct_local"),
                     .fd = fd,
                     .type = SOCK_DGRAM,
                     .sa = (const struct sockaddr *)&fake,
                     .len = sizeof(fake),
                     .host = name};
    ck_assert_int_ge(d.dialer, 0);
    ck_assert_int_eq(resolve_dial(&d), 0);
    /* the resolved address was dialed ... */
    ck_assert_int_eq(getpeername(fd, (struct sockaddr *)&peer, &plen), 0);
    ck_assert_str_eq(inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text)), "127.0.0.7");
    ck_assert_int_eq(ntohs(peer.sin_port), 5353);
    /* ... and the caller's struct is its own again */
    ck_assert_ptr_eq(d.sa, (const struct sockaddr *)&fake);
    ck_assert_int_eq(d.len, sizeof(fake));
    ck_assert_ptr_eq(d.host, name);
    close(fd);
    unlink(hosts_path);
    conf_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resolve");
    TCase *t = tcase_create("resolve");
    SRunner *r;
    int failed;

    sys_init_default();
    tcase_add_test(t, dial_struct_is_the_callers_again);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
