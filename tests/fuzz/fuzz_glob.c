/* libFuzzer: app_glob(pattern, text), the `match =` globs: `*` any run (also across
 * '/'), `?` exactly one character, everything else itself. Compared with a dynamic-
 * programming reference; the input sizes are capped and libFuzzer's -timeout flags a
 * pattern that makes the matcher slow (exponential backtracking).
 * Input: PATTERN \0 TEXT. */
#include "common/route.h"
#include "tests/fuzz/fuzz.h"

#include <time.h>

#define MAXLEN 512

static bool ref_glob(const char *p, const char *t)
{
    size_t np = strlen(p), nt = strlen(t);
    /* row[j]: p[0..i) matches t[0..j) */
    bool *prev = calloc(nt + 1, 1), *cur = calloc(nt + 1, 1), *tmp, res;

    if (!prev || !cur)
        abort();
    prev[0] = true;
    for (size_t i = 1; i <= np; i++) {
        char c = p[i - 1];
        cur[0] = c == '*' && prev[0];
        for (size_t j = 1; j <= nt; j++) {
            if (c == '*')
                cur[j] = prev[j] || cur[j - 1];
            else
                cur[j] = prev[j - 1] && (c == '?' || c == t[j - 1]);
        }
        tmp = prev;
        prev = cur;
        cur = tmp;
    }
    res = prev[nt];
    free(prev);
    free(cur);
    return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    char *pat, *text;
    struct timespec a, b;

    if (size > 2 * MAXLEN + 1)
        return 0;
    pat = fuzz_take_str(&in);
    text = fuzz_take_str(&in);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    bool got = app_glob(pat, text);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    bool want = ref_glob(pat, text);
    FUZZ_CHECK(got == want, "app_glob(\"%.80s\", \"%.80s\") = %d, reference %d", pat, text, got,
               want);
    /* at most 512 x 512 steps: 100 ms of CPU is a complexity bug, not noise */
    double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    FUZZ_CHECK(ms < 100, "app_glob took %.1f ms on a %zu-byte pattern and %zu-byte text", ms,
               strlen(pat), strlen(text));
    free(pat);
    free(text);
    return 0;
}
