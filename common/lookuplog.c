#include "common/lookuplog.h"

#include "common/log.h"
#include "common/monotime.h"
#include "common/state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_ADDRS 8 /* addresses shown in a log line; the rest are counted */

const char *lookup_eai_name(int rc)
{
    switch (rc) {
    case 0:
        return "ok";
    case EAI_NONAME:
        return "EAI_NONAME";
    case EAI_AGAIN:
        return "EAI_AGAIN";
    case EAI_FAIL:
        return "EAI_FAIL";
    case EAI_FAMILY:
        return "EAI_FAMILY";
    case EAI_ADDRFAMILY:
        return "EAI_ADDRFAMILY";
    case EAI_MEMORY:
        return "EAI_MEMORY";
    case EAI_SYSTEM:
        return "EAI_SYSTEM";
    case EAI_SERVICE:
        return "EAI_SERVICE";
    case EAI_SOCKTYPE:
        return "EAI_SOCKTYPE";
    case EAI_BADFLAGS:
        return "EAI_BADFLAGS";
    default:
        return "EAI_?";
    }
}

/* "203.0.113.2,2001:db8:f::2" (at most LOG_ADDRS, then "+N"). */
static const char *format_addrs(const struct answer *a, char *buf, size_t cap)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < a->n && i < LOG_ADDRS && off < cap; i++) {
        char one[INET6_ADDRSTRLEN];
        inet_ntop(a->addrs[i].family, a->addrs[i].addr, one, sizeof(one));
        off += snprintf(buf + off, cap - off, "%s%s", i ? "," : "", one);
    }
    if (a->n > LOG_ADDRS && off < cap)
        snprintf(buf + off, cap - off, ",+%zu", a->n - LOG_ADDRS);
    return buf;
}

/* "ok ADDRS from SOURCE" or "EAI_X [from SOURCE] [strerror]", then the reason. */
static const char *format_result(const struct answer *a, int rc, int err, char *buf, size_t cap)
{
    char addrs[LOG_ADDRS * (INET6_ADDRSTRLEN + 1) + 16];
    size_t off = (size_t)snprintf(buf, cap, "%s", lookup_eai_name(rc));

    if (!rc && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " %s", format_addrs(a, addrs, sizeof(addrs)));
    if (a->source && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " from %s", a->source);
    if (rc == EAI_SYSTEM && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, " %s", strerror(err));
    if (a->why && off < cap)
        snprintf(buf + off, cap - off, " (%s)", a->why);
    return buf;
}

/* One line per routed lookup: program, pid, call, name, app, rule, dialer,
 * resolver, mode, strategy, result, time. */
void lookup_log(const struct query *q, const struct answer *a, int rc, const struct timespec *t0)
{
    const struct conf *c = state.conf;
    const struct conf_resolver *r = dns_resolver(c, a->resolver);
    char rule[160], result[512];
    int err = errno;

    if (!log_enabled(LOG_LVL_INFO))
        return;
    if (a->rule >= 0)
        snprintf(rule, sizeof(rule), "#%d %s", a->rule + 1, c->apps[state.app].rules[a->rule].text);
    else
        snprintf(rule, sizeof(rule), "default");
    log_msg(LOG_LVL_INFO,
            "%s[%d] %s %s app=%s rule=%s dialer=%s resolver=%s mode=%s strategy=%s result=%s "
            "%.3fms",
            state.prog, (int)getpid(), q->call, q->name,
            state.app >= 0 ? c->apps[state.app].name : "(built-in)", rule,
            c->dialers[a->dialer].name, r ? r->name : "?",
            a->mode == RESOLVER_MODE_FAKE_IP ? "fake_ip" : "real", conf_strategy_name(a->strategy),
            format_result(a, rc, err, result, sizeof(result)), monotime_ms_since(t0));
    errno = err;
}
