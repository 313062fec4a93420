/* Private to the key files of conf/ (keys.c dispatches a line to its setter;
 * keys_global.c, keys_dialer.c and keys_app.c hold a table and setters per section
 * type; get.c the value getters they share). Nothing else includes this file. */
#ifndef DIALSHIM_CONF_KEYS_H
#define DIALSHIM_CONF_KEYS_H

#include "conf/internal.h"

struct key_def {
    const char *name;
    void (*set)(struct parser *p, const char *key, const char *v);
    bool repeat;   /* may be given more than once (the values add up) */
    bool empty_ok; /* "key =" means something */
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The tables; a key's index is its slot in parser.seen. */
extern const struct key_def conf_global_keys[], conf_resolver_keys[], conf_dialer_keys[],
    conf_app_keys[];
extern const int conf_n_global_keys, conf_n_resolver_keys, conf_n_dialer_keys, conf_n_app_keys;

/* Dialer keys the closing checks look at, by their index in conf_dialer_keys. */
enum dialer_key {
    DK_TYPE,
    DK_SERVER,
    DK_USERNAME,
    DK_PASSWORD,
    DK_DETOUR,
    DK_REMOTE_DNS,
    DK_HANDSHAKE,
    DK_UDP,
    DK_MEMBERS,
    DK_PICK,
    DK_DOWN_FOR,
    DK_CONNECT_TIMEOUT,
    DK_OTHER /* the rest need no cross-key check */
};

/* conf/keys_sockopt.c: the setters of sing-box's newer socket fields (netns,
 * tcp_keep_alive*, ip_transparent) and of isolate, and their closing check. */
void conf_set_netns(struct parser *p, const char *key, const char *v);
void conf_set_tcp_keep_alive(struct parser *p, const char *key, const char *v);
void conf_set_tcp_keep_alive_interval(struct parser *p, const char *key, const char *v);
void conf_set_disable_tcp_keep_alive(struct parser *p, const char *key, const char *v);
void conf_set_ip_transparent(struct parser *p, const char *key, const char *v);
void conf_set_isolate(struct parser *p, const char *key, const char *v);
void conf_close_dialer_sockopt(struct parser *p);

/* Resolver strategy and dialer domain_strategy take the same words. */
#define CONF_N_STRATEGY 6
extern const char *const conf_strategy_names[CONF_N_STRATEGY];

static inline struct conf_dialer *dialer(struct parser *p)
{
    return &p->c->dialers[p->index];
}

static inline struct conf_resolver *resolver(struct parser *p)
{
    return &p->c->resolvers[p->index];
}

static inline struct conf_app *app(struct parser *p)
{
    return &p->c->apps[p->index];
}

/* get.c: the value parsers with the key's line: each reports what it refuses
 * ("bad duration '0s' for timeout: ...") and returns false, or stores the value. */
void conf_bad(struct parser *p, const char *what, const char *key, const char *v, const char *why);
bool conf_get_enum(struct parser *p, const char *key, const char *v, const char *const *names,
                   int n, int *out);
bool conf_get_bool(struct parser *p, const char *key, const char *v, bool *out);
enum tristate conf_get_tristate(struct parser *p, const char *key, const char *v);
/* MIN_MS: the smallest value that makes sense for the key. */
bool conf_get_duration(struct parser *p, const char *key, const char *v, uint32_t min_ms,
                       uint32_t *out);
bool conf_get_path(struct parser *p, const char *key, const char *v, char *out, size_t size);
/* Splits V at commas and calls EACH per trimmed item; false at the first item it
 * refuses (an empty one, one past MAX, one EACH refuses). */
bool conf_each_item(struct parser *p, const char *key, const char *v, int *count, int max,
                    bool (*each)(struct parser *p, const char *key, const char *item, int i));

/* keys_dialer.c: the checks that need the whole [dialer] section. */
void conf_close_dialer(struct parser *p);

#endif
