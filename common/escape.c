#include "common/escape.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static bool plain(uint8_t c)
{
    return c >= 0x20 && c < 0x7f && c != '\\';
}

static size_t escaped_len(const uint8_t *p, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        len += plain(p[i]) ? 1 : 4;
    return len;
}

const char *escape_bytes(char *out, size_t cap, const void *in, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = in;
    bool cut = escaped_len(p, n) > cap - 1;
    size_t o = 0, room;

    if (!cap)
        return out;
    room = cap - 1 - (cut && cap > 3 ? 3 : 0); /* "..." says it was cut */
    for (size_t i = 0; i < n; i++) {
        if (o + (plain(p[i]) ? 1 : 4) > room)
            break; /* never half an escape */
        if (plain(p[i])) {
            out[o++] = (char)p[i];
            continue;
        }
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hex[p[i] >> 4];
        out[o++] = hex[p[i] & 15];
    }
    if (cut && cap > 3) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

const char *escape_str(char *out, size_t cap, const char *s)
{
    return escape_bytes(out, cap, s, strlen(s));
}
