/* Private to conf/: the loader's working state, shared by parse.c (reading the
 * INI text), keys*.c and get.c (one setter per key, see keys.h), check.c
 * (cross-section validation), values*.c (value parsers) and conf.c (the public
 * entry points). Nothing outside conf/ includes this file. */
#ifndef DIALSHIM_CONF_INTERNAL_H
#define DIALSHIM_CONF_INTERNAL_H

#include "conf/conf.h"
#include "conf/line.h"
#include "conf/values.h"

#include <stddef.h>

#define WHY_MAX       128 /* the size conf.h promises for WHY buffers */
#define CONF_LINE_MAX 199 /* longest line inih (Debian, INI_MAX_LINE 200) takes whole */
#define KEYS_MAX      48  /* keys of the largest section type */

enum section_kind { SEC_NONE, SEC_SKIP, SEC_GLOBAL, SEC_RESOLVER, SEC_DIALER, SEC_APP };

/* A name that refers to another section, resolved once the whole file is read. */
enum ref_kind {
    REF_DIALER_DETOUR,
    REF_DIALER_RESOLVER,
    REF_RESOLVER_DETOUR,
    REF_APP_DIALER,
    REF_ROUTE,
    REF_DEFAULT_APP,
    REF_GROUP_MEMBER /* rule: the member's slot */
};

struct ref {
    enum ref_kind kind;
    int owner; /* index of the dialer, resolver or app holding the key */
    int rule;  /* REF_ROUTE: index into the app's rules */
    int line;
    char *name;
    bool dropped; /* the key itself was refused: do not report it twice */
};

struct diag {
    int line;
    int seq; /* keeps the order of problems found on the same line */
    char *msg;
};

struct parser {
    const char *file;
    struct conf_lines in;
    int line;    /* of the line inih is processing now */
    int handed;  /* a line handed to inih that should reach the handler, 0 = none */
    int handled; /* the last line that reached the handler */
    char lead;   /* the handed line's first non-blank character */
    struct conf *c;

    enum section_kind kind; /* the section being read */
    int index;              /* its index in c->dialers, resolvers or apps */
    int seen[KEYS_MAX];     /* line each of its keys was first set on; 0 = not set */
    int global_line;        /* line of [global], 0 before it */
    int password_line;      /* first password in the file, 0 = none */

    struct ref *refs;
    int n_refs;
    struct diag *diags;
    int n_diags;
    int n_errors;
    bool oom;

    bool scan; /* conf_scan_pass_through: no section is built, nothing reported */
    bool pass_seen, pass_other;
};

/* Problems. Messages starting "warning: " do not fail the load. */
void conf_report(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool conf_reported_at(const struct parser *p, int line);

/* parse.c */
void conf_parse_text(struct parser *p);

/* keys.c */
void conf_open_section(struct parser *p, enum section_kind kind, const char *name, int line);
void conf_close_section(struct parser *p);
void conf_set_key(struct parser *p, const char *key, const char *value);
void conf_dialer_defaults(struct conf_dialer *d);
void conf_add_ref(struct parser *p, enum ref_kind kind, int owner, int rule, const char *name);

/* check.c */
void conf_finish(struct parser *p);

/* values.c, values_addr.c, values_route.c: more parsers, each 0 or -1 with a
 * reason in WHY (WHY_MAX bytes). conf_parse_decimal: N digits, no sign; 0, -1
 * (not a number) or -2 (above MAX). */
int conf_parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out);
int conf_parse_port_range(const char *s, uint16_t *lo, uint16_t *hi, char *why);
int conf_parse_server(const char *s, struct conf_server *out, char *why);
int conf_parse_hostname(const char *s, bool allow_wildcard, char *out, size_t size, char *why);
int conf_check_ifname(const char *s, char *why);
int conf_check_name(const char *s, char *why);
int conf_parse_enum(const char *s, const char *const *names, int n, int *out);
void conf_join_names(char *buf, size_t size, const char *const *names, int n);
char *conf_trim(char *s);

#endif
