/* common/statecap.c: the constructor's test of whether a match line names a
 * path (then it reads /proc/self/exe), against a plain reading of the rule. */
#include "common/state_int.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rule read plainly: a line (cut at '\n', a BOM dropped before line 1)
 * holding a '/' whose text after blanks starts with "match". */
static bool plain(const char *text, size_t len)
{
    size_t ls = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        const char *q = text + ls, *line_end = text + i;
        if (memchr(q, '/', (size_t)(line_end - q))) {
            if (ls == 0 && len >= 3 && memcmp(q, "\xef\xbb\xbf", 3) == 0)
                q += 3;
            while (q < line_end && strchr(" \t\r\v\f", *q) && *q)
                q++;
            if (line_end - q >= 5 && memcmp(q, "match", 5) == 0)
                return true;
        }
        ls = i + 1;
    }
    return false;
}

static bool wants(const char *s)
{
    return state_wants_exe(s, strlen(s));
}

START_TEST(examples)
{
    ck_assert(wants("match = /usr/bin/curl\n"));
    ck_assert(wants("[app a]\n  \tmatch = curl, /opt/*/bin/x\ndialer = d\n"));
    ck_assert(wants("\xef\xbb\xbfmatch = /x"));
    ck_assert(!wants("[app a]\nmatch = curl\nroute = cidr:198.51.100.0/24 -> direct\n"));
    ck_assert(!wants("; match = /usr/bin/curl\n"));
    ck_assert(!wants("xmatch = /a\n"));
    ck_assert(!wants(""));
    /* a slash at every place of a 64-byte block, its line starting in an earlier one */
    for (int pad = 0; pad < 140; pad++) {
        char buf[256];
        int n = snprintf(buf, sizeof(buf), "route = a\nmatch = %*s/x\nroute = b/c\n", pad, "p");
        ck_assert_int_lt(n, (int)sizeof(buf));
        ck_assert(wants(buf));
        buf[10] = 'n'; /* "natch" */
        ck_assert(!wants(buf));
    }
}
END_TEST

/* Random texts over the bytes that matter, with "match" and BOMs sown in. */
START_TEST(same_as_the_plain_reading)
{
    static const char alphabet[] = "match/ \t\n\rx=\v";
    char buf[512];

    srand(16);
    for (int round = 0; round < 200000; round++) {
        size_t len = (size_t)rand() % 300, i = 0;

        if (rand() % 8 == 0) {
            memcpy(buf, "\xef\xbb\xbf", 3);
            i = len >= 3 ? 3 : 0;
        }
        while (i < len) {
            if (rand() % 6 == 0 && len - i >= 5) {
                memcpy(buf + i, "match", 5);
                i += 5;
            } else {
                buf[i++] = alphabet[rand() % (sizeof(alphabet) - 1)];
            }
        }
        buf[len] = '\0';
        ck_assert_msg(state_wants_exe(buf, len) == plain(buf, len), "round %d, \"%.*s\"", round,
                      (int)len, buf);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("statecap");
    TCase *t = tcase_create("wants_exe");
    SRunner *r;
    int failed;

    tcase_set_timeout(t, 60);
    tcase_add_test(t, examples);
    tcase_add_test(t, same_as_the_plain_reading);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
