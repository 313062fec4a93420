/* The contract every proxy reply parser shares (common/proto/proto.h), checked over
 * the prefixes of one input, each handed to the parser in a buffer of exactly that
 * many bytes:
 *   > 0  never more than the input; once complete, every longer input gives the same
 *        length (the bytes after a reply belong to the program);
 *   0    out->need > len (reading need - len more bytes is progress), need below the
 *        protocol's largest message, and never past the end of the message once it
 *        completes (a caller reading need - len bytes never eats tunnel data);
 *   < 0  err->errnum one of the documented errnos, err->why one printable line, and
 *        no longer input turns the error into success or "need more".
 * Plus a per-parser check of a complete message (lengths, fields).
 */
#ifndef DIALSHIM_FUZZ_PARSE_CHECK_H
#define DIALSHIM_FUZZ_PARSE_CHECK_H

#include "common/proto/proto.h"
#include "tests/fuzz/fuzz.h"

/* Run the parser on buf[0..len): returns its result, *need its out->need. */
typedef int (*pc_parse_fn)(const uint8_t *buf, size_t len, void *out, size_t *need,
                           struct proto_error *err, int arg);
/* Checks a complete message of length r at buf. */
typedef void (*pc_ok_fn)(const uint8_t *buf, size_t len, int r, const void *out, int arg);

struct pc_spec {
    const char *what;
    pc_parse_fn parse;
    pc_ok_fn ok;
    int arg;
    size_t out_size;   /* sizeof the parser's out struct */
    size_t need_max;   /* no need may exceed this */
    const int *errnos; /* allowed errnum values, 0-terminated */
};

static int pc_one(const struct pc_spec *s, const uint8_t *data, size_t k, size_t *need,
                  struct proto_error *err, void *out)
{
    uint8_t *buf = fuzz_copy(data, k);
    int r;

    memset(out, 0xa5, s->out_size);
    memset(err, 'A', sizeof(*err)); /* no NUL: a failure must write one */
    err->errnum = 0;
    r = s->parse(buf, k, out, need, err, s->arg);
    if (r > 0)
        s->ok(buf, k, r, out, s->arg);
    free(buf);
    return r;
}

static bool pc_errno_ok(const struct pc_spec *s, int e)
{
    for (const int *p = s->errnos; *p; p++)
        if (*p == e)
            return true;
    return false;
}

static void pc_hex(const uint8_t *data, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", data[i]);
    out[o < cap ? o : cap - 1] = '\0';
}

/* Check the prefixes listed by the caller (all when size is small). */
static void pc_check(const struct pc_spec *s, const uint8_t *data, size_t size, bool all_prefixes)
{
    void *out = malloc(s->out_size);
    struct proto_error err;
    size_t need, first_need_k = 0, max_need = 0;
    int final_r, r, done_r = 0, err_r = 0, err_errnum = 0;
    size_t done_k = 0, err_k = 0;
    char hex[200];
    bool have_need = false;

    if (!out)
        abort();
    pc_hex(data, size < 64 ? size : 64, hex, sizeof hex);

    /* err may be NULL: the documented convention. */
    {
        uint8_t *buf = fuzz_copy(data, size);
        s->parse(buf, size, out, &need, NULL, s->arg);
        free(buf);
    }

    final_r = pc_one(s, data, size, &need, &err, out);
    FUZZ_CHECK(final_r <= 0 || (size_t)final_r <= size, "%s: returned %d for %zu bytes [%s]",
               s->what, final_r, size, hex);

    for (size_t k = 0; k <= size; k++) {
        if (!all_prefixes && k > 64 && k != size && k % (size / 128 + 1) != 0 &&
            !(final_r > 0 && k + 6 >= (size_t)final_r && k <= (size_t)final_r + 1))
            continue;
        r = pc_one(s, data, k, &need, &err, out);
        if (r > 0) {
            FUZZ_CHECK((size_t)r <= k, "%s: %d from %zu bytes [%s]", s->what, r, k, hex);
            if (!done_r) {
                done_r = r;
                done_k = k;
            }
            FUZZ_CHECK(r == done_r, "%s: complete at %zu bytes with length %d, at %zu with %d [%s]",
                       s->what, done_k, done_r, k, r, hex);
            FUZZ_CHECK(!err_r, "%s: error at %zu bytes (errno %d) but complete (%d) at %zu [%s]",
                       s->what, err_k, err_errnum, r, k, hex);
        } else if (r == 0) {
            FUZZ_CHECK(!done_r, "%s: complete at %zu bytes (%d) but incomplete at %zu [%s]",
                       s->what, done_k, done_r, k, hex);
            FUZZ_CHECK(!err_r, "%s: error at %zu bytes (errno %d) but incomplete at %zu [%s]",
                       s->what, err_k, err_errnum, k, hex);
            FUZZ_CHECK(need > k, "%s: incomplete at %zu bytes but need %zu [%s]", s->what, k,
                       need, hex);
            FUZZ_CHECK(need <= s->need_max, "%s: need %zu > %zu at %zu bytes [%s]", s->what,
                       need, s->need_max, k, hex);
            if (!have_need || need > max_need) {
                max_need = need;
                first_need_k = k;
            }
            have_need = true;
        } else {
            FUZZ_CHECK(pc_errno_ok(s, err.errnum), "%s: errno %d at %zu bytes (why \"%.*s\") [%s]",
                       s->what, err.errnum, k, PROTO_WHY_MAX, err.why, hex);
            FUZZ_CHECK(fuzz_printable(err.why, sizeof err.why),
                       "%s: why not one printable NUL-terminated line at %zu bytes [%s]", s->what,
                       k, hex);
            FUZZ_CHECK(!done_r, "%s: complete at %zu bytes (%d) but error at %zu [%s]", s->what,
                       done_k, done_r, k, hex);
            if (!err_r) {
                err_r = r;
                err_k = k;
                err_errnum = err.errnum;
            }
        }
    }
    FUZZ_CHECK(!(done_r && have_need && max_need > (size_t)done_r),
               "%s: need %zu at %zu bytes, past the end of the %d-byte message [%s]", s->what,
               max_need, first_need_k, done_r, hex);
    free(out);
}

#endif
