/* libFuzzer: dnsresp_respond on any message, with callbacks that answer every
 * name (or pass / refuse it, by the input's first byte).
 * Checked: no read past the message (a heap copy of exactly its size), no write
 * past CAP; -1 exactly when dnsresp_parse refuses the message (or the question
 * does not fit); an answer echoes the ID and the question's bytes, has QR set,
 * QDCOUNT 1, and every answer record lies inside the length returned.
 * Input: mode(1) cap(2) message. */
#include "common/dnsresp.h"
#include "tests/fuzz/fuzz.h"

#include <netdb.h>
#include <sys/socket.h>

static uint8_t mode;

static enum dnsresp_way way(void *ctx, const char *name)
{
    (void)ctx;
    FUZZ_CHECK(strlen(name) <= DNSRESP_NAME_MAX, "name of %zu characters", strlen(name));
    return mode % 3 == 0 ? DNSRESP_ANSWER : mode % 3 == 1 ? DNSRESP_PASS : DNSRESP_REFUSE;
}

static int lookup(void *ctx, const char *name, int family, struct dns_addr *out, size_t cap,
                  size_t *n)
{
    (void)ctx, (void)name;
    if (mode & 8)
        return EAI_NONAME;
    *n = (size_t)(mode >> 4) % cap + 1;
    for (size_t i = 0; i < *n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].family = family;
        out[i].addr[0] = (uint8_t)i;
    }
    return 0;
}

static bool name_of(void *ctx, const struct dns_addr *a, char *name, size_t cap)
{
    (void)ctx;
    if (a->addr[0] & 1)
        return false;
    /* the longest name there is */
    memset(name, 'a', cap - 1);
    for (size_t i = 63; i < cap - 1; i += 64)
        name[i] = '.';
    name[cap > DNSRESP_NAME_MAX ? DNSRESP_NAME_MAX : cap - 1] = '\0';
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct dnsresp_ops ops = {NULL, way, lookup, name_of};
    struct dnsresp_query q;
    uint8_t *msg, *out;
    size_t cap, len;
    int r;

    if (size < 3 || size > 2048)
        return 0;
    mode = data[0];
    cap = ((size_t)data[1] << 8 | data[2]) % 1024;
    len = size - 3;
    msg = fuzz_copy(data + 3, len);
    out = malloc(cap ? cap : 1);
    if (!out)
        abort();
    bool parsed = dnsresp_parse(msg, len, &q);
    r = dnsresp_respond(msg, len, &ops, out, cap);
    FUZZ_CHECK(r <= (int)cap, "answer of %d bytes in %zu", r, cap);
    if (!parsed)
        FUZZ_CHECK(r == -1, "an answer (%d) to a message the parser refuses", r);
    if (parsed && mode % 3 == 1)
        FUZZ_CHECK(r == 0, "a passed query answered (%d)", r);
    if (parsed && r == -1)
        FUZZ_CHECK(cap < 12 + q.qlen, "no answer though %zu bytes fit the question", cap);
    if (r > 0) {
        FUZZ_CHECK(out[0] == msg[0] && out[1] == msg[1] && (out[2] & 0x80) && out[4] == 0 &&
                       out[5] == 1,
                   "answer header");
        FUZZ_CHECK(memcmp(out + 12, msg + 12, q.qlen) == 0, "question not echoed");
        size_t off = 12 + q.qlen;
        unsigned an = (unsigned)out[6] << 8 | out[7];
        for (unsigned i = 0; i < an; i++) {
            FUZZ_CHECK(off + 12 <= (size_t)r, "record %u past the answer", i);
            off += 12 + ((size_t)out[off + 10] << 8 | out[off + 11]);
        }
        FUZZ_CHECK(off == (size_t)r, "records end at %zu, answer at %d", off, r);
    }
    free(msg);
    free(out);
    return 0;
}
