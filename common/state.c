#include "common/state.h"

#include "common/dns.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <unistd.h>

struct state state;

bool state_secure(void)
{
    return getauxval(AT_SECURE) != 0;
}

const char *state_env(const char *name)
{
    return state_secure() ? NULL : getenv(name);
}

static bool readable(const char *p)
{
    return access(p, R_OK) == 0;
}

bool state_find_config(char *out, size_t cap)
{
    const char *env = state_env("DIALSHIM_CONFIG"), *xdg, *home;

    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return true;
    }
    xdg = state_env("XDG_CONFIG_HOME");
    home = state_env("HOME");
    if (xdg && *xdg) {
        snprintf(out, cap, "%s/dialshim/dialshim.ini", xdg);
        if (readable(out))
            return true;
    } else if (home && *home) {
        snprintf(out, cap, "%s/.config/dialshim/dialshim.ini", home);
        if (readable(out))
            return true;
    }
    snprintf(out, cap, "/etc/dialshim.ini");
    if (readable(out))
        return true;
    out[0] = '\0';
    return false;
}

static void report(void *ctx, const char *file, int line, const char *msg)
{
    (void)ctx;
    if (strncmp(msg, "warning: ", 9) == 0)
        log_warn("%s:%d: %s", file, line, msg + 9);
    else
        log_error("%s:%d: %s", file, line, msg);
}

static enum log_level level_from(const char *s, enum log_level dflt)
{
    static const char *names[] = {"error", "warn", "info", "debug", "trace"};

    for (int i = 0; s && i < 5; i++)
        if (strcasecmp(s, names[i]) == 0)
            return (enum log_level)i;
    return dflt;
}

bool state_scan_pass_through(const char *path)
{
    char line[512];
    bool in_global = false, pass = false;
    FILE *f = fopen(path, "re");

    if (!f)
        return false;
    while (fgets(line, sizeof(line), f)) {
        char *p = line + strspn(line, " \t");
        if (*p == '[') {
            in_global = strncmp(p, "[global]", 8) == 0;
        } else if (in_global && strncmp(p, "on_config_error", 15) == 0) {
            pass = strstr(p, "pass_through") != NULL;
        }
    }
    fclose(f);
    return pass;
}

static void who_am_i(void)
{
    ssize_t n = readlink("/proc/self/exe", state.exe, sizeof(state.exe) - 1);

    state.exe[n > 0 ? n : 0] = '\0';
    snprintf(state.prog, sizeof(state.prog), "%s", program_invocation_short_name);
}

static bool uses_fake_ip(const struct conf *c)
{
    for (int i = 0; i < c->n_resolvers; i++)
        if (c->resolvers[i].mode == RESOLVER_MODE_FAKE_IP)
            return true;
    for (int i = 0; i < c->n_dialers; i++)
        if (c->dialers[i].type != DIALER_DIRECT && c->dialers[i].type != DIALER_BLOCK &&
            conf_remote_dns(&c->dialers[i]) &&
            !(c->dialers[i].domain_resolver >= 0 &&
              c->resolvers[c->dialers[i].domain_resolver].mode == RESOLVER_MODE_REAL))
            return true;
    return false;
}

void state_load(void)
{
    const char *lvl = state_env("DIALSHIM_LOG"), *logfile = state_env("DIALSHIM_LOG_FILE");
    struct conf *c;

    who_am_i();
    fdtab_init();
    log_open(level_from(lvl, LOG_LVL_WARN), logfile);
    if (!state_find_config(state.path, sizeof(state.path)))
        return; /* no configuration anywhere: the shim stays out of the way */
    c = conf_load(state.path, report, NULL);
    if (c && support_check(c, report, NULL)) {
        conf_free(c);
        c = NULL;
    }
    if (!c) {
        state.broken = !state_scan_pass_through(state.path);
        log_error("%s: configuration unusable; %s", state.path,
                  state.broken ? "network calls fail with EACCES (on_config_error = fail_closed)"
                               : "network calls pass through untouched (on_config_error = "
                                 "pass_through)");
        return;
    }
    log_open(level_from(lvl, c->log_level), logfile && *logfile ? logfile : c->log_file);
    state.app = app_pick(c, state_env("DIALSHIM_APP"), state.prog, state.exe, &state.app_why,
                         &state.app_matched);
    if (state.app == -2) {
        log_error("DIALSHIM_APP=%s: no [app %s] in %s", state_env("DIALSHIM_APP"),
                  state_env("DIALSHIM_APP"), state.path);
        state.broken = c->on_config_error == ON_ERROR_FAIL_CLOSED;
        conf_free(c);
        return;
    }
    state.app_dialer = route_app_dialer(c, state.app);
    /* Fake addresses only exist where the file asks for them: a program that
     * really talks to 198.18.0.0/15 must not find its packets taken for names. */
    if (uses_fake_ip(c) && fakeip_init(c) != 0)
        log_warn("fake-ip tables: out of memory; fake addresses disabled");
    state.conf = c;
    state.active = true;
}

void state_atfork_prepare(void)
{
    dns_atfork_prepare();
    fakeip_atfork_prepare();
}

void state_atfork_parent(void)
{
    fakeip_atfork_parent();
    dns_atfork_parent();
}

/* The configuration and the descriptor table carry over as they are; the fake-ip
 * table and the DNS cache get usable locks again. */
void state_atfork_child(void)
{
    fakeip_atfork_child();
    dns_atfork_child();
}
