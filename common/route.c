#include "common/route.h"
#include "common/hotpath.h"

#include <string.h>
#include <strings.h>

/* Iterative matching with one backtrack point, no recursion. STEPS, when not
 * NULL, counts the loop's turns; inlined with NULL, the count costs nothing. */
static inline __attribute__((always_inline)) bool glob_core(const char *p, const char *t,
                                                            size_t *steps)
{
    const char *star = NULL, *resume = NULL;
    size_t n = 0;

    while (*t) {
        n++;
        if (*p == '*') {
            star = ++p;
            resume = t;
        } else if (*p == '?' || *p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star;
            t = ++resume;
        } else {
            break;
        }
    }
    while (!*t && *p == '*') {
        n++;
        p++;
    }
    if (steps)
        *steps = n;
    return !*t && *p == '\0';
}

bool app_glob(const char *p, const char *t)
{
    return glob_core(p, t, NULL);
}

bool app_glob_steps(const char *p, const char *t, size_t *steps)
{
    return glob_core(p, t, steps);
}

static const char *base_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;

    return slash ? slash + 1 : path;
}

/* The pattern of app I that matches WHO, or NULL; *WHY says how. */
static const char *matching(const struct conf_app *a, const struct app_who *who,
                            enum app_reason *why)
{
    const char *exe_name = who->exe && *who->exe ? base_of(who->exe) : NULL;

    for (int j = 0; j < a->n_match; j++) {
        const char *pat = a->match[j];
        /* A pattern with a slash is a path glob; otherwise it names the program. */
        if (strchr(pat, '/')) {
            if (who->exe && *who->exe && app_glob(pat, who->exe)) {
                *why = APP_BY_PATH;
                return pat;
            }
        } else if (who->name && app_glob(pat, who->name)) {
            *why = APP_BY_NAME;
            return pat;
        } else if (exe_name && *exe_name && app_glob(pat, exe_name)) {
            /* a process started as /proc/self/exe with another argv[0] */
            *why = APP_BY_EXE_NAME;
            return pat;
        }
    }
    return NULL;
}

bool app_needs_exe(const struct conf *c)
{
    for (int i = 0; i < c->n_apps; i++)
        if (c->apps[i].n_match > 0)
            return true;
    return false;
}

int app_pick(const struct conf *c, const struct app_who *who, enum app_reason *why,
             const char **matched)
{
    int i;

    *matched = NULL;
    if (who->forced && *who->forced) {
        *why = APP_BY_ENV;
        return conf_app_index(c, who->forced) >= 0 ? conf_app_index(c, who->forced) : -2;
    }
    for (i = 0; i < c->n_apps; i++)
        if ((*matched = matching(&c->apps[i], who, why)) != NULL)
            return i;
    i = who->inherited && *who->inherited ? conf_app_index(c, who->inherited) : -1;
    if (i >= 0 && c->apps[i].inherit) {
        *why = APP_BY_PARENT;
        return i;
    }
    if (c->default_app >= 0) {
        *why = APP_BY_DEFAULT;
        return c->default_app;
    }
    *why = APP_BY_BUILTIN;
    return APP_BUILTIN;
}

static bool cidr_matches(const struct conf_rule *r, const struct sockaddr *sa)
{
    const uint8_t *a;
    int bits = r->m.cidr.prefix, full, rest;
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    if (!sa)
        return false;
    if (sa->sa_family == AF_INET && r->m.cidr.family == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        a = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        /* An IPv4-mapped destination on an IPv6 socket is an IPv4 destination. */
        if (r->m.cidr.family == AF_INET) {
            if (memcmp(a, v4mapped, 12) != 0)
                return false;
            a += 12;
        }
    } else {
        return false;
    }
    full = bits / 8;
    rest = bits % 8;
    if (memcmp(a, r->m.cidr.addr, full) != 0)
        return false;
    return rest == 0 || ((a[full] ^ r->m.cidr.addr[full]) & (0xff << (8 - rest))) == 0;
}

static bool domain_matches(const struct conf_rule *r, const char *name)
{
    size_t n, m;

    if (!name)
        return false;
    n = strlen(name);
    if (n && name[n - 1] == '.')
        n--;
    m = strlen(r->m.domain.name);
    if (n == m)
        return strncasecmp(name, r->m.domain.name, n) == 0 && !r->m.domain.suffix;
    /* "*.example.com" matches strictly below example.com. */
    return r->m.domain.suffix && n > m && name[n - m - 1] == '.' &&
           strncasecmp(name + n - m, r->m.domain.name, m) == 0;
}

bool route_rule_matches(const struct conf_rule *r, const struct dest *d)
{
    switch (r->kind) {
    case MATCH_CIDR:
        return cidr_matches(r, d->sa);
    case MATCH_DOMAIN:
        return domain_matches(r, d->name);
    case MATCH_PORT:
        return d->port >= r->m.port.lo && d->port <= r->m.port.hi;
    case MATCH_NETWORK:
        return d->net == r->m.network;
    }
    return false;
}

int route_app_dialer(const struct conf *c, int app)
{
    if (app >= 0)
        return c->apps[app].dialer;
    return c->direct >= 0 ? c->direct : conf_dialer_index(c, "direct");
}

HOT_PATH int route_pick(const struct conf *c, int app, const struct dest *d, int *rule)
{
    *rule = -1;
    if (app >= 0) {
        const struct conf_app *a = &c->apps[app];
        for (int i = 0; i < a->n_rules; i++) {
            if (route_rule_matches(&a->rules[i], d)) {
                *rule = i;
                return a->rules[i].dialer;
            }
        }
    }
    return route_app_dialer(c, app);
}
