/* dialer_may_defer: which configurations can ever dial a TCP connect in the
 * background or swap the program's socket (and so need the program's epoll
 * registrations recorded, common/engine_fd.c). A configuration loaded from text. */
#include "common/dialer/dialer.h"
#include "conf/conf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char errors[4096];

static void collect(void *ctx, const char *file, int line, const char *msg)
{
    (void)ctx;
    snprintf(errors + strlen(errors), sizeof(errors) - strlen(errors), "%s:%d: %s\n", file, line,
             msg);
}

/* TEXT's answer; the configuration is freed. */
static bool defers(const char *text)
{
    struct conf *c;
    bool d;

    errors[0] = '\0';
    c = conf_load_string("t.ini", text, collect, NULL);
    ck_assert_msg(c != NULL, "load failed: %s", errors);
    d = dialer_may_defer(c);
    conf_free(c);
    return d;
}

START_TEST(direct_and_block_never_defer)
{
    ck_assert(!defers("[dialer d]\ntype = direct\n[app all]\nmatch = *\ndialer = d\n"));
    ck_assert(!defers("[dialer d]\ntype = direct\nconnect_timeout = 2s\nrouting_mark = 7\n"
                      "[dialer no]\ntype = block\n"
                      "[app all]\nmatch = *\ndialer = d\n"
                      "route = cidr:192.0.2.0/24 -> no\n"));
    ck_assert(!defers("[resolver real]\nservers = 192.0.2.2\nmode = real\n"
                      "[dialer d]\ntype = direct\ndomain_resolver = real\n"
                      "[app all]\nmatch = *\ndialer = d\n"));
}
END_TEST

START_TEST(proxies_fake_addresses_netns_and_races_defer)
{
    ck_assert(defers("[dialer p]\ntype = socks5\nserver = 192.0.2.2:1080\n"
                     "[app all]\nmatch = *\ndialer = p\n"));
    ck_assert(defers("[dialer d]\ntype = direct\n"
                     "[dialer p]\ntype = http\nserver = 192.0.2.2:8080\n"
                     "[app all]\nmatch = *\ndialer = d\n")); /* unused, still counted */
    ck_assert(defers("[resolver fk]\nservers = 192.0.2.2\nmode = fake_ip\n"
                     "[dialer d]\ntype = direct\ndomain_resolver = fk\n"
                     "[app all]\nmatch = *\ndialer = d\n"));
    ck_assert(defers("[dialer d]\ntype = direct\nnetns = vpn\n[app all]\nmatch = *\ndialer = d\n"));
    ck_assert(defers("[dialer d]\ntype = direct\nnetwork_strategy = fallback\n"
                     "network_type = wifi\n[app all]\nmatch = *\ndialer = d\n"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("defer");
    TCase *t = tcase_create("defer");
    SRunner *r;
    int failed;

    tcase_add_test(t, direct_and_block_never_defer);
    tcase_add_test(t, proxies_fake_addresses_netns_and_races_defer);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
