/* Shared by the libFuzzer targets tests/fuzz/fuzz_*.c (built by `make fuzz`).
 *
 * FUZZ_CHECK(cond, fmt, ...) states an invariant: when it does not hold, the input and
 * the reason go to stderr and the process aborts, which libFuzzer records as a crash
 * (artifact file) like any sanitizer report.
 *
 * fuzz_copy() gives a heap copy of exactly N bytes, so AddressSanitizer catches a
 * parser that reads even one byte past the length it was given (the fuzzer's own
 * buffer is larger than a prefix we hand out).
 */
#ifndef DIALSHIM_FUZZ_H
#define DIALSHIM_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(cond, ...)                                                              \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "\nFUZZ INVARIANT FAILED %s:%d: %s\n  ", __FILE__, __LINE__,   \
                    #cond);                                                                \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static inline uint8_t *fuzz_copy(const uint8_t *data, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    if (n)
        memcpy(p, data, n);
    return p;
}

/* A NUL-terminated heap copy of data[0..n). */
static inline char *fuzz_str(const uint8_t *data, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        abort();
    if (n)
        memcpy(p, data, n);
    p[n] = '\0';
    return p;
}

/* A string whose every byte is printable ASCII and which ends within MAX bytes. */
static inline bool fuzz_printable(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (n == max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* Consume input bytes without running off the end (zeros once it is used up). */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* Up to the next NUL (consumed) or the end: a heap string. */
static inline char *fuzz_take_str(struct fuzz_in *in)
{
    const uint8_t *z = memchr(in->p, 0, in->n);
    size_t n = z ? (size_t)(z - in->p) : in->n;
    char *s = fuzz_str(in->p, n);
    in->p += n + (z ? 1 : 0);
    in->n -= n + (z ? 1 : 0);
    return s;
}

#endif
