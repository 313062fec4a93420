/* conf: what a loadable file still gets told (warnings, which never fail the
 * load), and the scan that reads on_config_error out of a file too broken to load.
 * Run from the repository root (tests/unit/run.sh does). */
#include "conf/conf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES "tests/unit/fixtures/conf/"

static char out[4096];

static void collect(void *ctx, const char *file, int line, const char *msg)
{
    size_t n = strlen(out);

    (void)ctx;
    if (strstr(msg, "readable by others"))
        return; /* the checkout's umask decides that one: test_conf covers it */
    snprintf(out + n, sizeof(out) - n, "%s:%d: %s\n", file, line, msg);
}

/* A resolver's detour naming a proxy or a block: DNS still
 * leaves directly, and the file says so at the detour key. Plain options: quiet. */
START_TEST(resolver_detour_to_proxy_warns)
{
    const char *f = FIXTURES "warn-resolver-detour.ini";
    char expect[2048];
    struct conf *c;

    out[0] = '\0';
    c = conf_load(f, collect, NULL);
    ck_assert_msg(c != NULL, "a warning failed the load:\n%s", out);
    snprintf(expect, sizeof(expect),
             "%s:4: warning: detour 'tor' of [resolver viaproxy] is a socks5 dialer: DNS queries "
             "use only its socket options and still leave directly\n"
             "%s:7: warning: detour 'block' of [resolver viablock] is a block dialer: DNS "
             "queries use only its socket options and still leave directly\n",
             f, f);
    ck_assert_str_eq(out, expect);
    conf_free(c);
}
END_TEST

/* ---- conf_scan_pass_through: the value token of [global]'s key, nothing else ---- */

static bool scan(const char *text)
{
    return conf_scan_pass_through(text, strlen(text));
}

START_TEST(scan_value_token_only)
{
    ck_assert(scan("[global]\non_config_error = pass_through\nbroken\n"));
    ck_assert(scan("\xef\xbb\xbf[ global ]\r\non_config_error:pass_through ; comment\r\n"));
    ck_assert(scan("[global]\n  on_config_error = pass_through\t# why\n[app x]\nbroken"));
    ck_assert(!scan(""));
    ck_assert(!scan("[global]\nlog_level = warn # pass_through\n"));
    ck_assert(!scan("[global]\non_config_error = fail_closed ; not pass_through\n"));
    ck_assert(!scan("[global]\non_config_error = fail_closed #pass_through\n"));
    ck_assert(!scan("[global]\non_config_error = pass_through_not\n"));
    ck_assert(!scan("[global]\non_config_error = \"pass_through\"\n"));
    ck_assert(!scan("[global]\non_config_error = pass_through;x\n")); /* ';' glued: the value */
    ck_assert(!scan("[global]\non_config_error_x = pass_through\n"));
    ck_assert(!scan("[global]\nlog_file = /tmp/on_config_error = pass_through\n"));
    ck_assert(!scan("[global]\n; on_config_error = pass_through\n"));
    ck_assert(!scan("[app x]\non_config_error = pass_through\n"));
    ck_assert(!scan("[global x]\non_config_error = pass_through\n"));
    ck_assert(!scan("[global]x\non_config_error = pass_through\n"));
    ck_assert(!scan("[global]\non_config_error = pass_through\non_config_error = fail_closed\n"));
    ck_assert(!scan("[global]\non_config_error = PASS_THROUGH\n"));
    /* the length bounds the scan: the key's value lies past it */
    ck_assert(!conf_scan_pass_through("[global]\non_config_error = pass_through", 30));
}
END_TEST

/* The scan reads lines as the loader does: a line the loader refuses says nothing. */
START_TEST(scan_skips_refused_lines)
{
    char text[512];

    snprintf(text, sizeof(text), "[global]\non_config_error = pass_through%*s\n", 200, "");
    ck_assert(!scan(text));
    ck_assert(!conf_scan_pass_through("[global]\non_config_error = pass_through\0\n", 41));
    ck_assert(conf_scan_pass_through("[global]\non_config_error = pass_through\n\0\n", 42));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_warn");
    TCase *t = tcase_create("conf_warn");
    SRunner *r;
    int failed;

    tcase_add_test(t, resolver_detour_to_proxy_warns);
    tcase_add_test(t, scan_value_token_only);
    tcase_add_test(t, scan_skips_refused_lines);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
