#include "common/json.h"

#include <string.h>

/* The bytes C takes as JSON: 1, 2 (\" \\) or 6 (\u00XX). */
static size_t width(unsigned char c)
{
    if (c == '"' || c == '\\')
        return 2;
    return c >= 0x20 && c < 0x7f ? 1 : 6;
}

static size_t put(char *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

bool json_str(char *out, size_t cap, size_t keep, size_t *off, const char *s)
{
    size_t at = *off, end, need = 0;
    const unsigned char *p = (const unsigned char *)s;

    /* room for the quotes and the NUL */
    if (cap < keep || cap - keep < at || cap - keep - at < 3)
        return false;
    end = cap - keep - 2; /* the closing quote and the NUL stay free */
    for (const unsigned char *q = p; *q; q++)
        need += width(*q);
    out[at++] = '"';
    if (at + need <= end) {
        for (; *p; p++)
            at += put(out + at, *p);
    } else {
        /* cut: as many whole escapes as leave room for "..." */
        for (; *p && at + width(*p) + 3 <= end; p++)
            at += put(out + at, *p);
        if (at + 3 <= end) {
            memcpy(out + at, "...", 3);
            at += 3;
        }
    }
    out[at++] = '"';
    out[at] = '\0';
    *off = at;
    return true;
}
