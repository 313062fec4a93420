/* Value parsers for plain values: numbers, durations, booleans, marks, names
 * and enumerations. One string in, one typed value or a short reason out; they
 * know nothing about keys or lines (conf/get.c adds those to the message).
 * Addresses are in values_addr.c, route rules in values_route.c. */
#include "conf/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DIGITS "0123456789"

/* N decimal digits, no sign: 0, -1 (not a number) or -2 (above MAX). */
int conf_parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return -2;
    }
    *out = v;
    return 0;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int parse_hex(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (hex_digit(*s) < 0)
            return -1;
        v = v * 16 + (uint64_t)hex_digit(*s);
        if (v > max)
            return -2;
    }
    *out = v;
    return 0;
}

char *conf_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

static uint32_t unit_ms(const char *unit)
{
    if (strcmp(unit, "ms") == 0)
        return 1;
    if (strcmp(unit, "s") == 0)
        return 1000;
    if (strcmp(unit, "m") == 0)
        return 60000;
    return 0;
}

/* A unit is required: a bare "5" could mean seconds (sing-box, curl) or
 * milliseconds (most socket APIs), and guessing wrong is off by 1000. */
int conf_parse_duration_ms(const char *s, uint32_t *out, char *why)
{
    size_t n = strspn(s, DIGITS);
    const char *unit = s + n;
    uint32_t mult;
    uint64_t v;

    if (n == 0) {
        snprintf(why, WHY_MAX, "expected a whole number followed by ms, s or m");
        return -1;
    }
    if (*unit == '\0') {
        snprintf(why, WHY_MAX, "no unit (write '%.20ss' or '%.20sms')", s, s);
        return -1;
    }
    if (*unit == '.') {
        snprintf(why, WHY_MAX, "fractions are not supported (use a smaller unit, e.g. ms)");
        return -1;
    }
    mult = unit_ms(unit);
    if (mult == 0) {
        snprintf(why, WHY_MAX, "unknown unit '%.20s' (use ms, s or m)", unit);
        return -1;
    }
    if (conf_parse_decimal(s, n, UINT32_MAX, &v) < 0 || v * mult > UINT32_MAX) {
        snprintf(why, WHY_MAX, "too large (max 4294967295ms, about 49 days)");
        return -1;
    }
    *out = (uint32_t)(v * mult);
    return 0;
}

int conf_parse_bool(const char *s, bool *out, char *why)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    snprintf(why, WHY_MAX, "expected true, false, yes, no, on, off, 1 or 0");
    return -1;
}

int conf_parse_mark(const char *s, uint32_t *out, char *why)
{
    uint64_t v;
    int r;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        r = parse_hex(s + 2, UINT32_MAX, &v);
    else
        r = conf_parse_decimal(s, strlen(s), UINT32_MAX, &v);
    if (r == -2) {
        snprintf(why, WHY_MAX, "out of range (max 0xffffffff)");
        return -1;
    }
    if (r < 0) {
        snprintf(why, WHY_MAX, "expected a decimal or 0x hex number");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int conf_check_ifname(const char *s, char *why)
{
    size_t n = strlen(s);

    if (n == 0) {
        snprintf(why, WHY_MAX, "empty");
        return -1;
    }
    if (n >= IF_NAMESIZE) {
        snprintf(why, WHY_MAX, "longer than %d characters", IF_NAMESIZE - 1);
        return -1;
    }
    /* The kernel's own rule (dev_valid_name). */
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strpbrk(s, "/: \t")) {
        snprintf(why, WHY_MAX, "not a valid interface name");
        return -1;
    }
    return 0;
}

int conf_check_name(const char *s, char *why)
{
    size_t n = strlen(s);

    if (n >= CONF_NAME_MAX) {
        snprintf(why, WHY_MAX, "longer than %d characters", CONF_NAME_MAX - 1);
        return -1;
    }
    if (n == 0 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "_-.") != n) {
        snprintf(why, WHY_MAX, "use letters, digits, '_', '-' and '.'");
        return -1;
    }
    return 0;
}

int conf_parse_enum(const char *s, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        if (names[i] && strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

/* "a, b or c": the accepted values, for messages. NULL entries are skipped. */
void conf_join_names(char *buf, size_t size, const char *const *names, int n)
{
    int total = 0, k = 0;
    size_t len = 0;

    for (int i = 0; i < n; i++)
        total += names[i] != NULL;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++) {
        if (!names[i])
            continue;
        k++;
        len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                k == 1 ? "" : (k == total ? " or " : ", "), names[i]);
    }
}
