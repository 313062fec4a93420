/* The engine's decision line (declared in common/engine_int.h): one per
 * decision, program, pid, destination, app, rule, chain, result, time. */
#include "common/addr.h"
#include "common/engine_int.h"
#include "common/monotime.h"
#include "common/state.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *app_name(void)
{
    return state.app >= 0 ? state.conf->apps[state.app].name : "(built-in)";
}

/* One line per decision: program, pid, destination, app, rule, chain, result, time
 * (log_format = json: the same as members of one object). */
void log_decision_line(enum log_level l, const struct dial *d, int rule, int err,
                       const struct timespec *t0)
{
    const struct conf *c = state.conf;
    char dst[ADDR_STRLEN], rbuf[160], chain[256];
    const char *why = dial_why(d), *result;
    double ms;

    if (rule >= 0)
        snprintf(rbuf, sizeof(rbuf), "#%d %s", rule + 1, c->apps[state.app].rules[rule].text);
    else
        snprintf(rbuf, sizeof(rbuf), "default");
    addr_format(d->sa, dst, sizeof(dst));
    conf_chain_text(c, d->dialer, chain, sizeof(chain));
    result = err ? strerrorname_np(err) : "ok";
    ms = t0->tv_sec || t0->tv_nsec ? monotime_ms_since(t0) : 0.0;
    if (log_format_now == LOG_FORMAT_JSON) {
        const struct log_kv kv[] = {LOG_KV_STR("prog", state.prog),
                                    LOG_KV_INT("pid", getpid()),
                                    LOG_KV_STR("net", d->type == SOCK_DGRAM ? "udp" : "tcp"),
                                    LOG_KV_STR("dst", dst),
                                    LOG_KV_STR("name", d->host),
                                    LOG_KV_STR("app", app_name()),
                                    LOG_KV_STR("rule", rbuf),
                                    LOG_KV_STR("chain", chain),
                                    LOG_KV_STR("result", result),
                                    LOG_KV_STR("why", why),
                                    LOG_KV_MS("ms", ms)};
        log_kv(l, kv, (int)(sizeof(kv) / sizeof(kv[0])));
        return;
    }
    log_msg(l, "%s[%d] %s %s%s%s app=%s rule=%s chain=%s result=%s%s%s %.3fms", state.prog,
            (int)getpid(), d->type == SOCK_DGRAM ? "udp" : "tcp", dst, d->host ? " name=" : "",
            d->host ? d->host : "", app_name(), rbuf, chain, result, why ? " " : "", why ? why : "",
            ms);
}
