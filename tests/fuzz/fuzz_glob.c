/* libFuzzer: app_glob(pattern, text), the `match =` globs: `*` any run (also across
 * '/'), `?` exactly one character, everything else itself. Compared with a dynamic-
 * programming reference. The matcher's step count must stay within its promised
 * bound, 2 * (len(pattern) + 1) * (len(text) + 1): a count, not a clock, so a busy
 * machine cannot trip it and a slow pattern (exponential backtracking) always does.
 * Input: PATTERN \0 TEXT. */
#include "common/route.h"
#include "tests/fuzz/fuzz.h"

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
    size_t steps, bound;

    if (size > 2 * MAXLEN + 1)
        return 0;
    pat = fuzz_take_str(&in);
    text = fuzz_take_str(&in);
    bool got = app_glob_steps(pat, text, &steps);
    bool want = ref_glob(pat, text);
    FUZZ_CHECK(got == want, "app_glob(\"%.80s\", \"%.80s\") = %d, reference %d", pat, text, got,
               want);
    FUZZ_CHECK(app_glob(pat, text) == got, "app_glob and app_glob_steps differ on \"%.80s\"", pat);
    bound = 2 * (strlen(pat) + 1) * (strlen(text) + 1);
    FUZZ_CHECK(steps <= bound,
               "app_glob took %zu steps on a %zu-byte pattern and %zu-byte text (bound %zu)", steps,
               strlen(pat), strlen(text), bound);
    free(pat);
    free(text);
    return 0;
}
