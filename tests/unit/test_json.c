/* common/json.c: strings for log_format = json lines. */
#include "common/json.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *one(char *out, size_t cap, size_t keep, const char *s)
{
    size_t off = 0;

    ck_assert(json_str(out, cap, keep, &off, s));
    ck_assert_uint_eq(off, strlen(out));
    return out;
}

START_TEST(escapes)
{
    char out[256];

    ck_assert_str_eq(one(out, sizeof(out), 0, "curl"), "\"curl\"");
    ck_assert_str_eq(one(out, sizeof(out), 0, ""), "\"\"");
    ck_assert_str_eq(one(out, sizeof(out), 0, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(one(out, sizeof(out), 0, "\n\t\x01\x1f\x7f"),
                     "\"\\u000a\\u0009\\u0001\\u001f\\u007f\"");
    ck_assert_str_eq(one(out, sizeof(out), 0, "caf\xc3\xa9 \xff"), "\"caf\\u00c3\\u00a9 \\u00ff\"");
    ck_assert_str_eq(one(out, sizeof(out), 0, "chain=a>b /x"), "\"chain=a>b /x\"");
}
END_TEST

/* Appends at *OFF and leaves KEEP bytes alone. */
START_TEST(appends_and_keeps)
{
    char out[16];
    size_t off = 2;

    memcpy(out, "{x", 2);
    memset(out + 2, '#', sizeof(out) - 2);
    ck_assert(json_str(out, sizeof(out), 4, &off, "abc"));
    ck_assert_str_eq(out, "{x\"abc\"");
    ck_assert_uint_eq(off, 7);
    /* 16 - 4 = 12: the quotes and the NUL need 3 bytes from offset 9 */
    off = 10;
    ck_assert(!json_str(out, sizeof(out), 4, &off, ""));
    ck_assert_uint_eq(off, 10);
    ck_assert(!json_str(out, 2, 0, &(size_t){0}, ""));
    ck_assert(!json_str(out, 4, 8, &(size_t){0}, ""));
}
END_TEST

/* Every capacity, a string of escapes: never past CAP - KEEP, both quotes, cut only
 * at a whole escape, "..." when cut. */
START_TEST(cut_whole_escapes)
{
    const char *s = "ab\"\\\n\xff-cd\"\"\x01xyz";
    char full[128], out[128];
    size_t nfull;

    one(full, sizeof(full), 0, s);
    nfull = strlen(full);
    for (size_t cap = 3; cap < nfull + 4; cap++) {
        size_t off = 0, n;
        memset(out, '#', sizeof(out));
        ck_assert(json_str(out, cap, 0, &off, s));
        n = strlen(out);
        ck_assert_uint_lt(n, cap);
        ck_assert_uint_eq(out[cap], '#');
        ck_assert_uint_eq(out[0], '"');
        ck_assert_uint_eq(out[n - 1], '"');
        if (n == nfull) {
            ck_assert_str_eq(out, full);
            continue;
        }
        /* the kept part is a prefix of the full one ending at an escape's end */
        size_t body = n - 2;
        if (body >= 3 && memcmp(out + n - 4, "...", 3) == 0)
            body -= 3;
        ck_assert(memcmp(out, full, body + 1) == 0);
        size_t at = 1;
        for (const unsigned char *p = (const unsigned char *)s; at < body + 1; p++)
            at += *p == '"' || *p == '\\' ? 2 : *p >= 0x20 && *p < 0x7f ? 1 : 6;
        ck_assert_uint_eq(at, body + 1);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("json");
    TCase *t = tcase_create("json");
    SRunner *r;
    int failed;

    tcase_add_test(t, escapes);
    tcase_add_test(t, appends_and_keeps);
    tcase_add_test(t, cut_whole_escapes);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
