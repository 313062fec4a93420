/* The keys of [app NAME] (dialshim.ini(5)): match, dialer and route rules; the
 * dialer names are recorded and resolved in check.c. */
#include "conf/keys.h"

#include <stdlib.h>
#include <string.h>

static bool add_match(struct parser *p, const char *key, const char *item, int i)
{
    struct conf_app *a = app(p);

    if (strlen(item) >= sizeof(a->match[i])) {
        conf_report(p, p->line, "entry in %s longer than %zu characters", key,
                    sizeof(a->match[i]) - 1);
        return false;
    }
    strcpy(a->match[i], item);
    return true;
}

/* Repeated match lines add up: a long list may be spread over lines. */
static void set_match(struct parser *p, const char *key, const char *v)
{
    conf_each_item(p, key, v, &app(p)->n_match, CONF_MATCH_MAX, add_match);
}

static void set_app_dialer(struct parser *p, const char *key, const char *v)
{
    (void)key;
    conf_add_ref(p, REF_APP_DIALER, p->index, 0, v);
}

static void set_route(struct parser *p, const char *key, const char *v)
{
    struct conf_app *a = app(p);
    struct conf_rule rule, *rules;
    char target[CONF_NAME_MAX], why[WHY_MAX];

    (void)key;
    memset(&rule, 0, sizeof(rule));
    if (conf_parse_route(v, &rule, target, why) < 0) {
        conf_report(p, p->line, "bad route '%s': %s", v, why);
        return;
    }
    rules = realloc(a->rules, (size_t)(a->n_rules + 1) * sizeof(*rules));
    if (!rules) {
        p->oom = true;
        return;
    }
    a->rules = rules;
    rule.line = p->line;
    rule.dialer = -1;
    rules[a->n_rules] = rule;
    conf_add_ref(p, REF_ROUTE, p->index, a->n_rules++, target);
}

static void set_inherit(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &app(p)->inherit);
}

const struct key_def conf_app_keys[] = {
    {"inherit", set_inherit, false, false},
    {"match", set_match, true, false},
    {"dialer", set_app_dialer, false, false},
    {"route", set_route, true, false},
};
const int conf_n_app_keys = COUNT(conf_app_keys);
