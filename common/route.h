/* route: which [app] a program is, and which dialer a destination gets.
 *
 * Promise: pure functions over the loaded conf. route_pick() allocates nothing,
 * takes no lock and makes no system call: it runs on every connect.
 */
#ifndef DIALSHIM_ROUTE_H
#define DIALSHIM_ROUTE_H

#include "conf/conf.h"

/* The built-in app (no [app] matched and no default_app): dialer `direct`, no rules. */
#define APP_BUILTIN (-1)

/* How an app was chosen, for logs and explain. */
enum app_reason {
    APP_BY_ENV,
    APP_BY_NAME,
    APP_BY_PATH,
    APP_BY_EXE_NAME,
    APP_BY_PARENT,
    APP_BY_DEFAULT,
    APP_BY_BUILTIN
};

/* Who the program is, for app_pick. */
struct app_who {
    const char *forced;    /* DIALSHIM_APP, or NULL */
    const char *name;      /* the invocation name (argv[0]'s basename), or NULL */
    const char *exe;       /* the path of /proc/self/exe, or NULL */
    const char *inherited; /* the app of the process that started this one, or NULL */
};

/* Returns an index into c->apps or APP_BUILTIN, and sets *WHY and *MATCHED (the
 * match pattern that hit, when by name or path). In this order: FORCED; the first
 * pattern in file order that matches (a pattern with a '/' the EXE path, any other
 * the invocation NAME or else the basename of EXE); INHERITED when that app exists
 * and has `inherit = true`; default_app; the built-in app. A FORCED name that no
 * section has yields -2 (the caller reports it). */
int app_pick(const struct conf *c, const struct app_who *who, enum app_reason *why,
             const char **matched);

/* True when a pattern of C needs the path of /proc/self/exe to decide (any
 * pattern does: a name pattern is also tried on the executable's basename). */
bool app_needs_exe(const struct conf *c);

/* One glob as written in `match`: `*` any run of characters (also across '/'), `?` one. */
bool app_glob(const char *pattern, const char *text);
/* The same, counting its steps into *STEPS. Every star is passed once, the
 * backtrack point only moves forward through TEXT and each backtrack rewinds TEXT
 * by at most the pattern's length, so steps <= 2 * (len(pattern) + 1) *
 * (len(text) + 1): never exponential. */
bool app_glob_steps(const char *pattern, const char *text, size_t *steps);

/* A destination as route rules see it. */
struct dest {
    const struct sockaddr *sa; /* the address, or NULL when only a name is known */
    const char *name;          /* the host name, or NULL */
    uint16_t port;             /* host order */
    enum net_kind net;         /* NET_TCP or NET_UDP */
};

/* The dialer index for D under APP (index or APP_BUILTIN); *RULE gets the index
 * of the rule that matched in that app's rules, or -1 for the app's default. */
int route_pick(const struct conf *c, int app, const struct dest *d, int *rule);

/* The rule's matcher alone, exposed for tests. */
bool route_rule_matches(const struct conf_rule *r, const struct dest *d);

/* The dialer an app uses by default. */
int route_app_dialer(const struct conf *c, int app);

#endif
