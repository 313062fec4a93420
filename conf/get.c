/* The value parsers (values*.c) with a key and a line: what every setter of
 * keys_*.c does with a value it refuses, said once. */
#include "conf/keys.h"

#include <stdio.h>
#include <string.h>

void conf_bad(struct parser *p, const char *what, const char *key, const char *v, const char *why)
{
    conf_report(p, p->line, "bad %s '%s' for %s: %s", what, v, key, why);
}

bool conf_get_enum(struct parser *p, const char *key, const char *v, const char *const *names,
                   int n, int *out)
{
    char list[160];

    if (conf_parse_enum(v, names, n, out) == 0)
        return true;
    conf_join_names(list, sizeof(list), names, n);
    conf_report(p, p->line, "bad value '%s' for %s: expected %s", v, key, list);
    return false;
}

bool conf_get_bool(struct parser *p, const char *key, const char *v, bool *out)
{
    char why[WHY_MAX];

    if (conf_parse_bool(v, out, why) == 0)
        return true;
    conf_bad(p, "boolean", key, v, why);
    return false;
}

enum tristate conf_get_tristate(struct parser *p, const char *key, const char *v)
{
    bool b;

    if (!conf_get_bool(p, key, v, &b))
        return TRI_UNSET;
    return b ? TRI_TRUE : TRI_FALSE;
}

/* MIN_MS: the smallest value that makes sense for the key. */
bool conf_get_duration(struct parser *p, const char *key, const char *v, uint32_t min_ms,
                       uint32_t *out)
{
    char why[WHY_MAX];
    uint32_t ms;

    if (conf_parse_duration_ms(v, &ms, why) < 0) {
        conf_bad(p, "duration", key, v, why);
        return false;
    }
    if (ms < min_ms) {
        if (min_ms == 1)
            snprintf(why, sizeof(why), "must be greater than 0");
        else
            snprintf(why, sizeof(why), "must be at least %ums", min_ms);
        conf_bad(p, "duration", key, v, why);
        return false;
    }
    *out = ms;
    return true;
}

bool conf_get_path(struct parser *p, const char *key, const char *v, char *out, size_t size)
{
    if (v[0] != '/') {
        conf_bad(p, "path", key, v, "must be absolute");
        return false;
    }
    if (strlen(v) >= size) {
        char why[WHY_MAX];
        snprintf(why, sizeof(why), "longer than %zu bytes", size - 1);
        conf_bad(p, "path", key, v, why);
        return false;
    }
    strcpy(out, v);
    return true;
}

/* The next comma-separated item, trimmed; NULL after the last. */
static char *next_item(char **cursor)
{
    char *item = *cursor, *comma;

    if (!item)
        return NULL;
    comma = strchr(item, ',');
    if (comma)
        *comma++ = '\0';
    *cursor = comma;
    return conf_trim(item);
}

/* Splits V and calls EACH per item; false at the first item it refuses. */
bool conf_each_item(struct parser *p, const char *key, const char *v, int *count, int max,
                    bool (*each)(struct parser *p, const char *key, const char *item, int i))
{
    char buf[CONF_LINE_MAX + 1], *cursor = buf, *item;

    snprintf(buf, sizeof(buf), "%s", v);
    while ((item = next_item(&cursor)) != NULL) {
        if (*item == '\0') {
            conf_report(p, p->line, "empty entry in %s", key);
            return false;
        }
        if (*count >= max) {
            conf_report(p, p->line, "too many entries in %s (max %d)", key, max);
            return false;
        }
        if (!each(p, key, item, *count))
            return false;
        (*count)++;
    }
    return true;
}

char *conf_chain_text(const struct conf *c, int dialer, char *buf, size_t cap)
{
    int hops[16], n = 0;
    size_t off = 0;

    for (int i = dialer; i >= 0 && n < 16; i = c->dialers[i].detour)
        hops[n++] = i;
    buf[0] = '\0';
    for (int k = n - 1; k >= 0 && off < cap; k--)
        off += snprintf(buf + off, cap - off, "%s%s", c->dialers[hops[k]].name, k ? ">" : "");
    return buf;
}
