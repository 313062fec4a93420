/* tools/import*.c: the line parsers of dialshim import, and whole imports whose
 * output must load (conf_load_string) whatever the input. */
#include "conf/conf.h"
#include "tools/import.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(split_blanks_equals_comments)
{
    char a[] = "chain_len = 2", b[] = " socks5\t192.0.2.1  1080 user pass # note",
         c[] = "# only a comment", d[] = "a=b", e[] = "one two three";
    char *t[IMP_TOKENS];

    ck_assert_int_eq(imp_split(a, t, IMP_TOKENS), 2);
    ck_assert_str_eq(t[0], "chain_len");
    ck_assert_str_eq(t[1], "2");
    ck_assert_int_eq(imp_split(b, t, IMP_TOKENS), 5);
    ck_assert_str_eq(t[0], "socks5");
    ck_assert_str_eq(t[4], "pass");
    ck_assert_int_eq(imp_split(c, t, IMP_TOKENS), 0);
    ck_assert_int_eq(imp_split(d, t, IMP_TOKENS), 2);
    ck_assert_str_eq(t[1], "b");
    /* more tokens than room: counted, not stored */
    ck_assert_int_eq(imp_split(e, t, 2), 3);
    ck_assert_str_eq(t[1], "two");
}
END_TEST

START_TEST(netmask_prefix)
{
    ck_assert_int_eq(imp_mask_prefix("255.0.0.0"), 8);
    ck_assert_int_eq(imp_mask_prefix("255.255.255.255"), 32);
    ck_assert_int_eq(imp_mask_prefix("255.255.240.0"), 20);
    ck_assert_int_eq(imp_mask_prefix("0.0.0.0"), 0);
    ck_assert_int_eq(imp_mask_prefix("255.0.255.0"), -1);
    ck_assert_int_eq(imp_mask_prefix("8"), -1);
    ck_assert_int_eq(imp_mask_prefix(""), -1);
}
END_TEST

START_TEST(values_and_servers)
{
    char big[IMP_VALUE_MAX + 2], out[80];

    ck_assert(imp_value_ok("s3cret-pw"));
    ck_assert(!imp_value_ok(""));
    ck_assert(!imp_value_ok(";x"));
    ck_assert(!imp_value_ok("#x"));
    ck_assert(!imp_value_ok("a b"));
    ck_assert(!imp_value_ok("a\x01"));
    ck_assert(!imp_value_ok("caf\xc3\xa9"));
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert(!imp_value_ok(big));
    big[IMP_VALUE_MAX] = '\0';
    ck_assert(imp_value_ok(big));

    ck_assert(imp_server("192.0.2.1", "1080", out, sizeof(out)));
    ck_assert_str_eq(out, "192.0.2.1:1080");
    ck_assert(imp_server("2001:db8::1", "65535", out, sizeof(out)));
    ck_assert_str_eq(out, "[2001:db8::1]:65535");
    ck_assert(!imp_server("proxy.example", "1080", out, sizeof(out)));
    ck_assert(!imp_server("192.0.2.1", "0", out, sizeof(out)));
    ck_assert(!imp_server("192.0.2.1", "65536", out, sizeof(out)));
    ck_assert(!imp_server("192.0.2.1", "10a", out, sizeof(out)));
    ck_assert(!imp_server("192.0.2.1", "", out, sizeof(out)));
    ck_assert(!imp_server("192.0.2.1", "-1", out, sizeof(out)));
}
END_TEST

START_TEST(lines_bounded)
{
    const char text[] = "a\r\nlong-line-here\nz";
    const char *p = text, *end = text + sizeof(text) - 1;
    char buf[8];
    bool lng;

    ck_assert(imp_next_line(&p, end, buf, sizeof(buf), &lng));
    ck_assert_str_eq(buf, "a");
    ck_assert(!lng);
    ck_assert(imp_next_line(&p, end, buf, sizeof(buf), &lng));
    ck_assert(lng);
    ck_assert_str_eq(buf, "long-li");
    ck_assert(imp_next_line(&p, end, buf, sizeof(buf), &lng));
    ck_assert_str_eq(buf, "z");
    ck_assert(!imp_next_line(&p, end, buf, sizeof(buf), &lng));
}
END_TEST

START_TEST(formats_detected)
{
    ck_assert_int_eq(import_detect("# c\nstrict_chain\n", 16), IMPORT_PROXYCHAINS);
    ck_assert_int_eq(import_detect("[ProxyList]\nsocks5 1.2.3.4 1\n", 29), IMPORT_PROXYCHAINS);
    ck_assert_int_eq(import_detect("TorPort 9050\n", 13), IMPORT_TORSOCKS);
    ck_assert_int_eq(import_detect("hello\n", 6), IMPORT_UNKNOWN);
    ck_assert_int_eq(import_detect("", 0), IMPORT_UNKNOWN);
}
END_TEST

struct run {
    char *out, *err;
    int rc, problems;
    struct conf *c;
};

static void count(void *ctx, const char *file, int line, const char *msg)
{
    struct run *r = ctx;

    (void)file, (void)line;
    if (strncmp(msg, "warning: ", 9) != 0) {
        fprintf(stderr, "conf: %s:%d: %s\n", file, line, msg);
        r->problems++;
    }
}

static struct run import(const char *text, size_t len)
{
    struct run r = {0};
    size_t no, ne;
    FILE *out = open_memstream(&r.out, &no), *err = open_memstream(&r.err, &ne);

    r.rc = import_text("in.conf", text, len, out, err);
    fclose(out);
    fclose(err);
    if (r.rc == 0)
        r.c = conf_load_string("out.ini", r.out, count, &r);
    return r;
}

static void done(struct run *r)
{
    conf_free(r->c);
    free(r->out);
    free(r->err);
}

START_TEST(proxychains_whole)
{
    const char text[] = "strict_chain\nproxy_dns\nremote_dns_subnet 224\n"
                        "localnet 198.51.100.0/255.255.255.0\nlocalnet 203.0.113.0:80/255.255.255.0\n"
                        "dnat 192.0.2.77 192.0.2.78\nwhat is this\n[ProxyList]\n"
                        "socks5 192.0.2.2 1080 user s3cret\nhttp 198.51.100.2 3128\n"
                        "raw 192.0.2.9 80\nsocks5 proxy.example 1080\n";
    struct run r = import(text, sizeof(text) - 1);

    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg(r.c && r.problems == 0, "output does not load:\n%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "fake_ip_range = 224.0.0.0/8\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "[dialer proxy1]\ntype = socks5\nserver = 192.0.2.2:1080\n"
                                        "username = user\npassword = s3cret\nremote_dns = true\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "detour = proxy1\n"));
    ck_assert_ptr_nonnull(
        strstr(r.out, "dialer = proxy2\nroute = cidr:198.51.100.0/24 -> direct\n"));
    ck_assert_ptr_null(strstr(r.out, "203.0.113.0/24 -> direct"));
    ck_assert_ptr_nonnull(strstr(r.out, "; line 6: dnat: left out"));
    /* warnings name the line; the password is in no comment or warning */
    ck_assert_ptr_nonnull(strstr(r.err, "in.conf:7: warning: 'what' not understood"));
    ck_assert_ptr_nonnull(strstr(r.err, "in.conf:11: warning: raw proxy left out"));
    ck_assert_ptr_nonnull(strstr(r.err, "in.conf:12: warning: socks5 proxy 'proxy.example'"));
    ck_assert_ptr_null(strstr(r.err, "s3cret"));
    ck_assert_ptr_eq(strstr(r.out, "s3cret"), strstr(r.out, "password = s3cret") + 11);
    done(&r);
}
END_TEST

START_TEST(proxychains_nothing_usable_blocks)
{
    const char text[] = "dynamic_chain\n[ProxyList]\nraw 192.0.2.9 80\n";
    struct run r = import(text, sizeof(text) - 1);

    ck_assert_msg(r.c && r.problems == 0, "output does not load:\n%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "dialer = block\n"));
    done(&r);
}
END_TEST

START_TEST(torsocks_whole)
{
    const char text[] = "TorAddress 127.0.0.1\nTorPort 9050\nOnionAddrRange 127.42.42.0/24\n"
                        "SOCKS5Username alice\nSOCKS5Password pw\nIsolatePID 1\n"
                        "AllowOutboundLocalhost 2\nNope 1\n";
    struct run r = import(text, sizeof(text) - 1);

    ck_assert_msg(r.c && r.problems == 0, "output does not load:\n%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "server = 127.0.0.1:9050\nremote_dns = true\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "isolate = process\n"));
    ck_assert_ptr_null(strstr(r.out, "username = alice"));
    ck_assert_ptr_nonnull(strstr(r.out, "route = cidr:127.0.0.0/8 -> direct\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "; line 3: OnionAddrRange"));
    ck_assert_ptr_nonnull(strstr(r.out, "IsolatePID 1 (line 6)"));
    ck_assert_ptr_nonnull(strstr(r.err, "in.conf:8: warning: 'Nope' not understood"));
    done(&r);
    {
        const char creds[] = "TorPort 9050\nSOCKS5Username alice\nSOCKS5Password pw\n";
        r = import(creds, sizeof(creds) - 1);
        ck_assert_msg(r.c && r.problems == 0, "output does not load:\n%s", r.out);
        ck_assert_ptr_nonnull(strstr(r.out, "username = alice\npassword = pw\n"));
    }
    done(&r);
}
END_TEST

/* Random lines built from both formats' words and junk: the output always loads
 * and no line of it is 200 bytes or more. */
/* round_robin_chain, chain_len 2: a group per position, lists rotated. */
START_TEST(proxychains_round_robin_groups)
{
    const char text[] = "round_robin_chain\nchain_len = 2\n[ProxyList]\n"
                        "socks5 192.0.2.2 1080\nsocks5 192.0.2.3 1080\nhttp 192.0.2.4 3128\n";
    struct run r = import(text, sizeof(text) - 1);

    ck_assert_msg(r.c && r.problems == 0, "output does not load:\n%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "[dialer hop1]\ntype = group\npick = round_robin\n"
                                        "members = p1_hop1, p2_hop1, p3_hop1\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "members = p2_hop2, p3_hop2, p1_hop2\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "[dialer p3_hop2]\ntype = http\nserver = 192.0.2.4:3128\n"
                                        "remote_dns = false\ndetour = hop1\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "dialer = hop2\n"));
    done(&r);
}
END_TEST

START_TEST(any_input_loads)
{
    static const char *const words[] = {"strict_chain",
                                        "random_chain",
                                        "chain_len",
                                        "proxy_dns",
                                        "remote_dns_subnet",
                                        "localnet",
                                        "dnat",
                                        "[ProxyList]",
                                        "socks5",
                                        "socks4",
                                        "http",
                                        "raw",
                                        "TorAddress",
                                        "TorPort",
                                        "SOCKS5Username",
                                        "SOCKS5Password",
                                        "AllowOutboundLocalhost",
                                        "IsolatePID",
                                        "192.0.2.1",
                                        "::1",
                                        "1080",
                                        "0",
                                        "2",
                                        "255.255.0.0",
                                        "203.0.113.0/255.255.255.0",
                                        "=",
                                        "#",
                                        ";x",
                                        "\x01\xff",
                                        "[x]",
                                        "a;b",
                                        "0.0.0.0:1/0.0.0.0",
                                        "fe80::1/64"};
    char text[2048];
    unsigned seed = 1;

    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0;
        int lines = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 12;
        for (int l = 0; l < lines; l++) {
            int n = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 6;
            for (int k = 0; k < n && len < sizeof(text) - 64; k++) {
                const char *w = words[((seed = seed * 1103515245 + 12345) >> 16) %
                                      (sizeof(words) / sizeof(words[0]))];
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s ", w);
            }
            text[len++] = '\n';
        }
        struct run r = import(text, len);
        if (r.rc == 0) {
            ck_assert_msg(r.c && r.problems == 0, "output does not load:\n%.*s\n->\n%s", (int)len,
                          text, r.out);
            for (char *p = r.out, *nl; *p; p = nl + 1) {
                nl = strchr(p, '\n');
                ck_assert_ptr_nonnull(nl);
                ck_assert_int_lt(nl - p, 200);
            }
        }
        done(&r);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("import");
    TCase *t = tcase_create("import");
    SRunner *r;
    int failed;

    tcase_add_test(t, split_blanks_equals_comments);
    tcase_add_test(t, netmask_prefix);
    tcase_add_test(t, values_and_servers);
    tcase_add_test(t, lines_bounded);
    tcase_add_test(t, formats_detected);
    tcase_add_test(t, proxychains_whole);
    tcase_add_test(t, proxychains_nothing_usable_blocks);
    tcase_add_test(t, proxychains_round_robin_groups);
    tcase_add_test(t, torsocks_whole);
    tcase_add_test(t, any_input_loads);
    tcase_set_timeout(t, 30);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
