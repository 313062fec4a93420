/* Route and app matching: pure functions over a configuration loaded from text. */
#include "common/route.h"
#include "conf/conf.h"
#include "conf/values.h"

#include <arpa/inet.h>
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

static struct conf *load(const char *text)
{
    struct conf *c;

    errors[0] = '\0';
    c = conf_load_string("t.ini", text, collect, NULL);
    ck_assert_msg(c != NULL, "load failed: %s", errors);
    return c;
}

static struct sockaddr_storage ss;

static const struct sockaddr *ip(const char *s, int port)
{
    memset(&ss, 0, sizeof(ss));
    if (strchr(s, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        ck_assert_int_eq(inet_pton(AF_INET6, s, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        ck_assert_int_eq(inet_pton(AF_INET, s, &a->sin_addr), 1);
    }
    return (struct sockaddr *)&ss;
}

static const char *pick(const struct conf *c, int app, const char *addr, int port,
                        enum net_kind net, const char *name)
{
    struct dest d = {.sa = addr ? ip(addr, port) : NULL, .name = name, .port = port, .net = net};
    int rule;

    return c->dialers[route_pick(c, app, &d, &rule)].name;
}

static const char rules_ini[] = "[dialer a]\n"
                                "type = direct\n"
                                "[dialer b]\n"
                                "type = direct\n"
                                "routing_mark = 0x64\n"
                                "[app x]\n"
                                "match = curl\n"
                                "dialer = a\n"
                                "route = cidr:203.0.113.0/24 -> b\n"
                                "route = cidr:2001:db8:f::/48 -> b\n"
                                "route = port:8000-8099 -> block\n"
                                "route = network:udp -> block\n"
                                "route = cidr:198.51.100.7 -> block\n";

START_TEST(first_rule_wins)
{
    struct conf *c = load(rules_ini);
    int x = conf_app_index(c, "x");

    ck_assert_str_eq(pick(c, x, "203.0.113.9", 8050, NET_TCP, NULL), "b");
    ck_assert_str_eq(pick(c, x, "192.0.2.9", 8050, NET_TCP, NULL), "block");
    ck_assert_str_eq(pick(c, x, "192.0.2.9", 80, NET_TCP, NULL), "a");
    ck_assert_str_eq(pick(c, x, "192.0.2.9", 53, NET_UDP, NULL), "block");
    ck_assert_str_eq(pick(c, x, "203.0.113.9", 53, NET_UDP, NULL), "b");
    conf_free(c);
}
END_TEST

START_TEST(cidr_edges)
{
    struct conf *c = load(rules_ini);
    int x = conf_app_index(c, "x");

    ck_assert_str_eq(pick(c, x, "203.0.113.0", 1, NET_TCP, NULL), "b");
    ck_assert_str_eq(pick(c, x, "203.0.113.255", 1, NET_TCP, NULL), "b");
    ck_assert_str_eq(pick(c, x, "203.0.114.0", 1, NET_TCP, NULL), "a");
    ck_assert_str_eq(pick(c, x, "203.0.112.255", 1, NET_TCP, NULL), "a");
    /* a host rule matches that host only */
    ck_assert_str_eq(pick(c, x, "198.51.100.7", 1, NET_TCP, NULL), "block");
    ck_assert_str_eq(pick(c, x, "198.51.100.6", 1, NET_TCP, NULL), "a");
    /* IPv6 prefix, and an IPv4-mapped destination counts as IPv4 */
    ck_assert_str_eq(pick(c, x, "2001:db8:f:1::2", 1, NET_TCP, NULL), "b");
    ck_assert_str_eq(pick(c, x, "2001:db8:e::2", 1, NET_TCP, NULL), "a");
    ck_assert_str_eq(pick(c, x, "::ffff:203.0.113.4", 1, NET_TCP, NULL), "b");
    conf_free(c);
}
END_TEST

START_TEST(domain_rules)
{
    struct conf_rule r;
    char dialer[64], why[160];
    struct dest d = {.port = 443, .net = NET_TCP};

    ck_assert_int_eq(conf_parse_route("domain:*.corp.example -> x", &r, dialer, why), 0);
    ck_assert_str_eq(dialer, "x");
    d.name = "a.corp.example";
    ck_assert(route_rule_matches(&r, &d));
    d.name = "A.B.Corp.Example.";
    ck_assert(route_rule_matches(&r, &d));
    d.name = "corp.example";
    ck_assert(!route_rule_matches(&r, &d));
    d.name = "evilcorp.example";
    ck_assert(!route_rule_matches(&r, &d));
    ck_assert_int_eq(conf_parse_route("domain:corp.example -> x", &r, dialer, why), 0);
    d.name = "corp.example";
    ck_assert(route_rule_matches(&r, &d));
    d.name = "a.corp.example";
    ck_assert(!route_rule_matches(&r, &d));
    d.name = NULL; /* a literal address never matches a domain rule */
    ck_assert(!route_rule_matches(&r, &d));
}
END_TEST

static int app_pick5(const struct conf *c, const char *forced, const char *name, const char *exe,
                     enum app_reason *why, const char **m)
{
    struct app_who who = {forced, name, exe, NULL};
    return app_pick(c, &who, why, m);
}

static const char apps_ini[] = "[global]\n"
                               "default_app = fallback\n"
                               "[app py]\n"
                               "match = /usr/bin/python3*\n"
                               "[app tools]\n"
                               "match = curl, wget\n"
                               "[app fallback]\n"
                               "dialer = block\n";

START_TEST(apps_by_name_path_env_default)
{
    struct conf *c = load(apps_ini);
    enum app_reason why;
    const char *m;

    ck_assert_int_eq(app_pick5(c, NULL, "curl", "/usr/bin/curl", &why, &m),
                     conf_app_index(c, "tools"));
    ck_assert_int_eq(why, APP_BY_NAME);
    ck_assert_str_eq(m, "curl");
    ck_assert_int_eq(app_pick5(c, NULL, "python3.11", "/usr/bin/python3.11", &why, &m),
                     conf_app_index(c, "py"));
    ck_assert_int_eq(why, APP_BY_PATH);
    /* a basename pattern never matches a path, a path pattern never a basename */
    ck_assert_int_eq(app_pick5(c, NULL, "python3", "/opt/python3", &why, &m),
                     conf_app_index(c, "fallback"));
    ck_assert_int_eq(why, APP_BY_DEFAULT);
    /* started as /proc/self/exe with argv[0] "exe": the executable's basename */
    ck_assert_int_eq(app_pick5(c, NULL, "exe", "/usr/lib/wget", &why, &m),
                     conf_app_index(c, "tools"));
    ck_assert_int_eq(why, APP_BY_EXE_NAME);
    ck_assert_str_eq(m, "wget");
    ck_assert_int_eq(app_pick5(c, "py", "curl", "/usr/bin/curl", &why, &m),
                     conf_app_index(c, "py"));
    ck_assert_int_eq(why, APP_BY_ENV);
    ck_assert_int_eq(app_pick5(c, "nope", "curl", NULL, &why, &m), -2);
    ck_assert_str_eq(c->dialers[route_app_dialer(c, conf_app_index(c, "fallback"))].name, "block");
    conf_free(c);
}
END_TEST

/* inherit: a process that matches nothing follows the app its parent passed down,
 * unless that app says inherit = false; its own match wins. */
START_TEST(apps_inherited)
{
    struct conf *c = load("[global]\ndefault_app = fallback\n"
                          "[app browser]\nmatch = chromium\n"
                          "[app tools]\nmatch = curl\ninherit = false\n"
                          "[app fallback]\ndialer = block\n");
    enum app_reason why;
    const char *m;
    struct app_who who = {NULL, "exe", "/usr/lib/other/thing", "browser"};

    ck_assert(c->apps[conf_app_index(c, "browser")].inherit);
    ck_assert(!c->apps[conf_app_index(c, "tools")].inherit);
    ck_assert_int_eq(app_pick(c, &who, &why, &m), conf_app_index(c, "browser"));
    ck_assert_int_eq(why, APP_BY_PARENT);
    ck_assert_ptr_null(m);
    who.name = "curl";
    ck_assert_int_eq(app_pick(c, &who, &why, &m), conf_app_index(c, "tools"));
    ck_assert_int_eq(why, APP_BY_NAME);
    who.name = "sh";
    who.inherited = "tools"; /* inherit = false: not followed */
    ck_assert_int_eq(app_pick(c, &who, &why, &m), conf_app_index(c, "fallback"));
    ck_assert_int_eq(why, APP_BY_DEFAULT);
    who.inherited = "gone"; /* an app this file does not have */
    ck_assert_int_eq(app_pick(c, &who, &why, &m), conf_app_index(c, "fallback"));
    conf_free(c);
}
END_TEST

START_TEST(builtin_app)
{
    struct conf *c = load("[dialer x]\ntype = direct\n");
    enum app_reason why;
    const char *m;

    ck_assert_int_eq(app_pick5(c, NULL, "curl", "/usr/bin/curl", &why, &m), APP_BUILTIN);
    ck_assert_int_eq(why, APP_BY_BUILTIN);
    ck_assert_str_eq(pick(c, APP_BUILTIN, "192.0.2.1", 80, NET_TCP, NULL), "direct");
    conf_free(c);
}
END_TEST

START_TEST(globs)
{
    ck_assert(app_glob("*", "anything"));
    ck_assert(app_glob("*", ""));
    ck_assert(app_glob("py*3", "python3"));
    ck_assert(app_glob("/usr/*/python3*", "/usr/local/bin/python3.11"));
    ck_assert(app_glob("cu?l", "curl"));
    ck_assert(!app_glob("cu?l", "cul"));
    ck_assert(!app_glob("curl", "curl2"));
    ck_assert(app_glob("a*b*c", "aXbYbZc"));
    ck_assert(!app_glob("a*b*c", "aXbYbZ"));
}
END_TEST

/* The backtracking worst cases stay inside the promised step bound, and the count
 * is what the matcher did: a linear match is linear. */
START_TEST(glob_steps_bounded)
{
    static char pat[600], text[600];
    static const char *const unit[] = {"*a", "*?", "*ab", "a*"};
    size_t steps, np, nt;

    ck_assert(app_glob_steps("curl", "curl", &steps));
    ck_assert_uint_eq(steps, 4);
    ck_assert(app_glob_steps("**", "", &steps));
    ck_assert_uint_eq(steps, 2);
    for (size_t u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
        pat[0] = '\0';
        for (int i = 0; i < 100; i++)
            strcat(pat, unit[u]);
        strcat(pat, "b");
        memset(text, 'a', 500);
        text[500] = '\0';
        np = strlen(pat);
        nt = strlen(text);
        ck_assert_int_eq(app_glob_steps(pat, text, &steps), app_glob(pat, text));
        ck_assert_msg(steps <= 2 * (np + 1) * (nt + 1), "%s...: %zu steps", unit[u], steps);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("route");
    TCase *t = tcase_create("route");
    SRunner *r;
    int failed;

    tcase_add_test(t, first_rule_wins);
    tcase_add_test(t, cidr_edges);
    tcase_add_test(t, domain_rules);
    tcase_add_test(t, apps_by_name_path_env_default);
    tcase_add_test(t, builtin_app);
    tcase_add_test(t, apps_inherited);
    tcase_add_test(t, globs);
    tcase_add_test(t, glob_steps_bounded);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
