/* The [dialer NAME] keys of sing-box's newer dialer fields (netns, tcp_keep_alive,
 * tcp_keep_alive_interval, disable_tcp_keep_alive, ip_transparent) and isolate
 * (dialshim.ini(5)): their setters, and the checks that need the whole section.
 * Kept apart from keys_dialer.c, whose table points here. */
#include "conf/keys.h"

#include <stdio.h>
#include <string.h>

/* The kernel's bound on TCP_KEEPIDLE and TCP_KEEPINTVL (MAX_TCP_KEEPIDLE), seconds. */
#define KEEPALIVE_MAX_S 32767

static const char *const isolate_names[] = {"none", "process", "app"};

void conf_set_netns(struct parser *p, const char *key, const char *v)
{
    struct conf_dialer *d = dialer(p);
    int n;

    if (v[0] == '/') {
        n = snprintf(d->netns, sizeof(d->netns), "%s", v);
    } else if (strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
        conf_bad(p, "namespace", key, v, "a name under /run/netns (no '/'), or an absolute path");
        return;
    } else {
        n = snprintf(d->netns, sizeof(d->netns), "/run/netns/%s", v);
    }
    if (n >= (int)sizeof(d->netns)) {
        d->netns[0] = '\0';
        conf_bad(p, "namespace", key, v, "too long");
    }
}

/* Whole seconds, as the kernel counts them: 1s to KEEPALIVE_MAX_S. */
static bool get_keepalive(struct parser *p, const char *key, const char *v, uint32_t *out)
{
    uint32_t ms;

    if (!conf_get_duration(p, key, v, 1000, &ms))
        return false;
    if (ms % 1000 || ms / 1000 > KEEPALIVE_MAX_S) {
        conf_bad(p, "duration", key, v, "must be whole seconds, at most 32767s");
        return false;
    }
    *out = ms;
    return true;
}

void conf_set_tcp_keep_alive(struct parser *p, const char *key, const char *v)
{
    get_keepalive(p, key, v, &dialer(p)->tcp_keep_alive_ms);
}

void conf_set_tcp_keep_alive_interval(struct parser *p, const char *key, const char *v)
{
    get_keepalive(p, key, v, &dialer(p)->tcp_keep_alive_interval_ms);
}

void conf_set_disable_tcp_keep_alive(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &dialer(p)->disable_tcp_keep_alive);
}

void conf_set_ip_transparent(struct parser *p, const char *key, const char *v)
{
    conf_get_bool(p, key, v, &dialer(p)->ip_transparent);
}

void conf_set_isolate(struct parser *p, const char *key, const char *v)
{
    int i;

    if (conf_get_enum(p, key, v, isolate_names, COUNT(isolate_names), &i))
        dialer(p)->isolate = (enum isolate)i;
}

/* The line KEY was set on in this section, 0 when it was not. */
static int seen_at(const struct parser *p, const char *key)
{
    for (int i = 0; i < conf_n_dialer_keys && i < KEYS_MAX; i++)
        if (strcmp(conf_dialer_keys[i].name, key) == 0)
            return p->seen[i];
    return 0;
}

void conf_close_dialer_sockopt(struct parser *p)
{
    const struct conf_dialer *d = dialer(p);
    int at = seen_at(p, "isolate");

    if (d->disable_tcp_keep_alive &&
        (seen_at(p, "tcp_keep_alive") || seen_at(p, "tcp_keep_alive_interval")))
        conf_report(p, seen_at(p, "disable_tcp_keep_alive"),
                    "disable_tcp_keep_alive = true contradicts tcp_keep_alive%s",
                    seen_at(p, "tcp_keep_alive") ? "" : "_interval");
    if (at && d->isolate != ISOLATE_NONE && d->type != DIALER_SOCKS5)
        conf_report(p, at, "isolate is only allowed for type socks5 (it sends a username)");
    else if (at && d->isolate != ISOLATE_NONE && (seen_at(p, "username") || seen_at(p, "password")))
        conf_report(p, at,
                    "isolate = %s cannot be combined with username/password (it makes its own)",
                    isolate_names[d->isolate]);
}
