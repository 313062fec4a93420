/* common/escape.c: a proxy's bytes as one printable log line. */
#include "common/escape.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(printable_kept_rest_escaped)
{
    char out[ESCAPE_SIZE(64)];

    ck_assert_str_eq(escape_str(out, sizeof(out), "relay.example"), "relay.example");
    ck_assert_str_eq(escape_str(out, sizeof(out), "a\nb\r\x1b[2J\x7f\\"),
                     "a\\x0ab\\x0d\\x1b[2J\\x7f\\x5c");
    ck_assert_str_eq(escape_bytes(out, sizeof(out), "a\0b\xff", 4), "a\\x00b\\xff");
    ck_assert_str_eq(escape_bytes(out, sizeof(out), "", 0), "");
}
END_TEST

/* Every byte value, every capacity: printable ASCII only, within CAP, and cut
 * only at a whole escape followed by "...". */
START_TEST(bounded_and_never_half_an_escape)
{
    unsigned char in[256];
    char out[ESCAPE_SIZE(256)], full[ESCAPE_SIZE(256)];

    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)i;
    escape_bytes(full, sizeof(full), in, sizeof(in));
    ck_assert_uint_eq(strlen(full), 94 + 162 * 4);
    for (size_t cap = 1; cap <= sizeof(out); cap++) {
        size_t n;

        memset(out, 'Z', sizeof(out));
        escape_bytes(out, cap, in, sizeof(in));
        n = strlen(out);
        ck_assert_uint_lt(n, cap);
        for (size_t i = 0; i < n; i++)
            ck_assert(out[i] >= 0x20 && out[i] < 0x7f);
        if (strlen(full) < cap) {
            ck_assert_str_eq(out, full);
        } else if (cap > 3) {
            ck_assert_str_eq(out + n - 3, "...");
            ck_assert(strncmp(out, full, n - 3) == 0);
            /* the kept part ends where the escape of a whole byte ends */
            size_t at = 0;
            for (int i = 0; i < 256 && at < n - 3; i++)
                at += in[i] >= 0x20 && in[i] < 0x7f && in[i] != '\\' ? 1 : 4;
            ck_assert_uint_eq(at, n - 3);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("escape");
    TCase *t = tcase_create("escape");
    /* The every-byte sweep takes a second alone and several on a loaded machine:
     * Check's 4 s default is a watchdog, not a measure. */
    tcase_set_timeout(t, 60);
    SRunner *r;
    int failed;

    tcase_add_test(t, printable_kept_rest_escaped);
    tcase_add_test(t, bounded_and_never_half_an_escape);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
