/* A line's key to its setter (the tables are in keys_global.c, keys_dialer.c and
 * keys_app.c), and the sections: opening one with its defaults, closing it, and
 * the references by name that check.c resolves once the whole file is read. */
#include "conf/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct key_def *keys_of(enum section_kind kind, int *n)
{
    switch (kind) {
    case SEC_GLOBAL:
        *n = conf_n_global_keys;
        return conf_global_keys;
    case SEC_RESOLVER:
        *n = conf_n_resolver_keys;
        return conf_resolver_keys;
    case SEC_DIALER:
        *n = conf_n_dialer_keys;
        return conf_dialer_keys;
    case SEC_APP:
        *n = conf_n_app_keys;
        return conf_app_keys;
    default:
        *n = 0;
        return NULL;
    }
}

/* "[dialer proxy]", "[global]": how messages name the current section. */
static void label(const struct parser *p, char *buf, size_t size)
{
    switch (p->kind) {
    case SEC_DIALER:
        snprintf(buf, size, "[dialer %s]", p->c->dialers[p->index].name);
        break;
    case SEC_RESOLVER:
        snprintf(buf, size, "[resolver %s]", p->c->resolvers[p->index].name);
        break;
    case SEC_APP:
        snprintf(buf, size, "[app %s]", p->c->apps[p->index].name);
        break;
    default:
        snprintf(buf, size, "[global]");
    }
}

void conf_set_key(struct parser *p, const char *key, const char *value)
{
    const struct key_def *keys;
    char where[CONF_NAME_MAX + 16];
    int n, i;

    if (p->kind == SEC_NONE || p->kind == SEC_SKIP)
        return;
    keys = keys_of(p->kind, &n);
    label(p, where, sizeof(where));
    for (i = 0; i < n && strcmp(keys[i].name, key) != 0; i++)
        ;
    if (i == n) {
        conf_report(p, p->line, "unknown key '%s' in %s", key, where);
        return;
    }
    if (p->seen[i] && !keys[i].repeat) {
        conf_report(p, p->line, "duplicate key '%s' in %s (first set at line %d)", key, where,
                    p->seen[i]);
        return;
    }
    if (!p->seen[i])
        p->seen[i] = p->line;
    if (p->kind == SEC_DIALER && i == DK_PASSWORD && !p->password_line)
        p->password_line = p->line;
    if (*value == '\0' && !keys[i].empty_ok) {
        conf_report(p, p->line, "empty value for %s", key);
        return;
    }
    keys[i].set(p, key, value);
}

/* ---- sections ---- */

void conf_dialer_defaults(struct conf_dialer *d)
{
    d->type = DIALER_DIRECT;
    d->detour = -1;
    d->domain_resolver = -1;
    d->fallback_delay_ms = 250;
    d->down_for_ms = 30000;
}

static void resolver_defaults(struct conf_resolver *r)
{
    r->strategy = STRATEGY_AS_IS;
    r->timeout_ms = 2000;
    r->attempts = 2;
    strcpy(r->hosts_file, "/etc/hosts");
    r->detour = -1;
    r->cache = true;
}

/* A new zeroed element at the end of *ARR; NULL when out of memory. */
static void *grow(void *arr_ptr, int *n, size_t size)
{
    void **arr = arr_ptr;
    char *bigger = realloc(*arr, (size_t)(*n + 1) * size);

    if (!bigger)
        return NULL;
    *arr = bigger;
    memset(bigger + (size_t)*n * size, 0, size);
    return bigger + (size_t)(*n)++ * size;
}

static void *new_section(struct parser *p, enum section_kind kind)
{
    struct conf *c = p->c;

    switch (kind) {
    case SEC_DIALER:
        p->index = c->n_dialers;
        return grow(&c->dialers, &c->n_dialers, sizeof(*c->dialers));
    case SEC_RESOLVER:
        p->index = c->n_resolvers;
        return grow(&c->resolvers, &c->n_resolvers, sizeof(*c->resolvers));
    case SEC_APP:
        p->index = c->n_apps;
        return grow(&c->apps, &c->n_apps, sizeof(*c->apps));
    default:
        return c;
    }
}

void conf_open_section(struct parser *p, enum section_kind kind, const char *name, int line)
{
    void *s = new_section(p, kind);

    memset(p->seen, 0, sizeof(p->seen));
    if (!s) {
        p->oom = true;
        p->kind = SEC_SKIP;
        return;
    }
    p->kind = kind;
    if (kind == SEC_GLOBAL) {
        p->global_line = line;
    } else if (kind == SEC_DIALER) {
        conf_dialer_defaults(s);
        snprintf(dialer(p)->name, CONF_NAME_MAX, "%s", name);
        dialer(p)->line = line;
    } else if (kind == SEC_RESOLVER) {
        resolver_defaults(s);
        snprintf(resolver(p)->name, CONF_NAME_MAX, "%s", name);
        resolver(p)->line = line;
    } else if (kind == SEC_APP) {
        app(p)->dialer = -1;
        app(p)->inherit = true;
        snprintf(app(p)->name, CONF_NAME_MAX, "%s", name);
        app(p)->line = line;
    }
}

void conf_add_ref(struct parser *p, enum ref_kind kind, int owner, int rule, const char *name)
{
    struct ref *r = grow(&p->refs, &p->n_refs, sizeof(*p->refs));

    if (!r || !(r->name = strdup(name))) {
        p->oom = true;
        return;
    }
    r->kind = kind;
    r->owner = owner;
    r->rule = rule;
    r->line = p->line;
}

void conf_close_section(struct parser *p)
{
    if (p->kind == SEC_DIALER)
        conf_close_dialer(p);
    p->kind = SEC_NONE;
}
