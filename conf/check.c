/* After the last line: built-in dialers, references by name turned into indexes,
 * detour cycles, the default app. Problems are reported at the referencing key. */
#include "conf/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add_builtin(struct parser *p, const char *name, enum dialer_type type)
{
    struct conf *c = p->c;
    struct conf_dialer *d;

    if (conf_dialer_index(c, name) >= 0)
        return; /* the file defines its own */
    d = realloc(c->dialers, (size_t)(c->n_dialers + 1) * sizeof(*d));
    if (!d) {
        p->oom = true;
        return;
    }
    c->dialers = d;
    d += c->n_dialers++;
    memset(d, 0, sizeof(*d));
    conf_dialer_defaults(d);
    d->type = type;
    snprintf(d->name, sizeof(d->name), "%s", name);
}

/* Where the index goes, and which kind of section it names. */
static int *ref_slot(struct conf *c, const struct ref *r, const char **what)
{
    *what = "dialer";
    switch (r->kind) {
    case REF_DIALER_DETOUR:
        return &c->dialers[r->owner].detour;
    case REF_DIALER_RESOLVER:
        *what = "resolver";
        return &c->dialers[r->owner].domain_resolver;
    case REF_RESOLVER_DETOUR:
        return &c->resolvers[r->owner].detour;
    case REF_APP_DIALER:
        return &c->apps[r->owner].dialer;
    case REF_ROUTE:
        return &c->apps[r->owner].rules[r->rule].dialer;
    case REF_DEFAULT_APP:
        *what = "app";
        return &c->default_app;
    case REF_GROUP_MEMBER:
        return &c->dialers[r->owner].members[r->rule];
    }
    return NULL;
}

static int find(const struct conf *c, const char *what, const char *name)
{
    if (strcmp(what, "resolver") == 0)
        return conf_resolver_index(c, name);
    if (strcmp(what, "app") == 0)
        return conf_app_index(c, name);
    return conf_dialer_index(c, name);
}

static void resolve_refs(struct parser *p)
{
    for (int i = 0; i < p->n_refs; i++) {
        struct ref *r = &p->refs[i];
        const char *what;
        int *slot, at;

        if (r->dropped)
            continue;
        slot = ref_slot(p->c, r, &what);
        at = find(p->c, what, r->name);
        if (at < 0)
            conf_report(p, r->line, "undefined %s '%s'", what, r->name);
        else
            *slot = at;
    }
}

/* The line of dialer I's detour key. */
static int detour_line(const struct parser *p, int i)
{
    for (int k = 0; k < p->n_refs; k++)
        if (p->refs[k].kind == REF_DIALER_DETOUR && p->refs[k].owner == i)
            return p->refs[k].line;
    return p->c->dialers[i].line;
}

/* A cycle through FIRST, its lowest index: "a -> b -> a", reported at the detour
 * key that leads back to FIRST. */
static void report_cycle(struct parser *p, int first)
{
    const struct conf_dialer *d = p->c->dialers;
    char text[512];
    size_t len = 0;
    int last = first;

    len += (size_t)snprintf(text, sizeof(text), "%s", d[first].name);
    for (int i = d[first].detour;; i = d[i].detour) {
        if (len < sizeof(text))
            len += (size_t)snprintf(text + len, sizeof(text) - len, " -> %s", d[i].name);
        if (i == first)
            break;
        last = i;
    }
    conf_report(p, detour_line(p, last), "detour cycle: %s", text);
}

/* Each dialer has at most one detour, so a walk either ends or loops. STATE:
 * 0 unvisited, 1 + START while on the walk from START, -1 done. */
static void find_cycles(struct parser *p)
{
    int n = p->c->n_dialers, *state = calloc((size_t)n + 1, sizeof(int));
    const struct conf_dialer *d = p->c->dialers;

    if (!state) {
        p->oom = true;
        return;
    }
    for (int start = 0; start < n; start++) {
        int i = start, low;

        while (i >= 0 && state[i] == 0) {
            state[i] = 1 + start;
            i = d[i].detour;
        }
        if (i >= 0 && state[i] == 1 + start) {
            low = i;
            for (int k = d[i].detour; k != i; k = d[k].detour)
                low = k < low ? k : low;
            report_cycle(p, low);
        }
        for (i = start; i >= 0 && state[i] == 1 + start; i = d[i].detour)
            state[i] = -1;
    }
    free(state);
}

/* With groups a dialer leads to several others (its detour, a group's members):
 * a depth-first walk, reporting the first cycle it closes at the key that closes
 * it ("group cycle: pool -> a -> pool"). Only after find_cycles found none. */
struct walk {
    struct parser *p;
    signed char *color; /* 0 new, 1 on the path, 2 done */
    int path[64];
    int depth;
    bool found;
};

static int member_line(const struct parser *p, int group)
{
    for (int k = 0; k < p->n_refs; k++)
        if (p->refs[k].kind == REF_GROUP_MEMBER && p->refs[k].owner == group)
            return p->refs[k].line;
    return p->c->dialers[group].line;
}

static void report_walk(struct walk *w, int to)
{
    const struct conf_dialer *d = w->p->c->dialers;
    int from = w->path[w->depth - 1], start = 0;
    char text[512];
    size_t len = 0;

    while (w->path[start] != to)
        start++;
    for (int k = start; k < w->depth && len < sizeof(text); k++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s -> ", d[w->path[k]].name);
    if (len < sizeof(text))
        snprintf(text + len, sizeof(text) - len, "%s", d[to].name);
    conf_report(w->p,
                d[from].type == DIALER_GROUP ? member_line(w->p, from) : detour_line(w->p, from),
                "group cycle: %s", text);
    w->found = true;
}

static void visit(struct walk *w, int i)
{
    const struct conf_dialer *d = &w->p->c->dialers[i];
    int next[CONF_LIST_MAX + 1], n = 0;

    if (w->found || w->color[i] == 2 || w->depth == 64)
        return;
    if (w->color[i] == 1) {
        report_walk(w, i);
        return;
    }
    w->color[i] = 1;
    w->path[w->depth++] = i;
    if (d->detour >= 0)
        next[n++] = d->detour;
    for (int k = 0; d->type == DIALER_GROUP && k < d->n_members; k++)
        if (d->members[k] >= 0)
            next[n++] = d->members[k];
    for (int k = 0; k < n && !w->found; k++)
        visit(w, next[k]);
    w->depth--;
    w->color[i] = 2;
}

static void find_group_cycles(struct parser *p)
{
    struct walk w = {.p = p, .color = calloc((size_t)p->c->n_dialers + 1, 1)};

    if (!w.color) {
        p->oom = true;
        return;
    }
    for (int i = 0; i < p->c->n_dialers && !w.found; i++)
        visit(&w, i);
    free(w.color);
}

/* A resolver's detour lends its socket options (interface, mark, source address)
 * to the DNS sockets and nothing else: a proxy or a block is not followed, and the
 * queries still leave directly. Allowed, since the options may be what was meant;
 * said at the key. */
static void warn_resolver_detours(struct parser *p)
{
    const struct conf *c = p->c;

    for (int i = 0; i < p->n_refs; i++) {
        const struct ref *r = &p->refs[i];
        const struct conf_resolver *res;

        if (r->kind != REF_RESOLVER_DETOUR || r->dropped)
            continue;
        res = &c->resolvers[r->owner];
        if (res->detour >= 0 && c->dialers[res->detour].type != DIALER_DIRECT)
            conf_report(p, r->line,
                        "warning: detour '%s' of [resolver %s] is a %s dialer: DNS queries "
                        "use only its socket options and still leave directly",
                        c->dialers[res->detour].name, res->name,
                        conf_dialer_type_name(c->dialers[res->detour].type));
    }
}

static bool has_ref(const struct parser *p, enum ref_kind kind)
{
    for (int i = 0; i < p->n_refs; i++)
        if (p->refs[i].kind == kind)
            return true;
    return false;
}

void conf_finish(struct parser *p)
{
    struct conf *c = p->c;
    int direct;

    add_builtin(p, "direct", DIALER_DIRECT);
    add_builtin(p, "block", DIALER_BLOCK);
    if (p->oom)
        return;
    resolve_refs(p);
    direct = c->direct = conf_dialer_index(c, "direct");
    for (int i = 0; i < c->n_apps; i++)
        if (c->apps[i].dialer < 0)
            c->apps[i].dialer = direct;
    {
        int before = p->n_errors;
        find_cycles(p);
        if (p->n_errors == before)
            find_group_cycles(p);
    }
    warn_resolver_detours(p);
    if (!has_ref(p, REF_DEFAULT_APP))
        c->default_app = conf_app_index(c, "default");
}
