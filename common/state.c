#include "common/state.h"
#include "common/state_int.h"

#include "common/dns.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/statedir.h"
#include "common/log.h"
#include "common/nobss.h"
#include "common/owner.h"
#include "common/support.h"
#include "common/hotpath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Written by the constructor: with its other data, in the data segment's first
 * written page (shim/start.ld). */
struct state state START_DATA("1");

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

static void release_text(void)
{
    if (!state_cap.text)
        return;
    explicit_bzero(state_cap.text, state_cap.len); /* it may hold a password */
    if (state_cap.text < state_cap.arena ||
        state_cap.text >= state_cap.arena + sizeof(state_cap.arena))
        free(state_cap.text);
    state_cap.text = NULL;
}

static void load_broken(void)
{
    state.broken = !(state_cap.text && conf_scan_pass_through(state_cap.text, state_cap.len));
    log_error("%s: configuration unusable; %s", state.path,
              state.broken ? "network calls fail with EACCES (on_config_error = fail_closed)"
                           : "network calls pass through untouched (on_config_error = "
                             "pass_through)");
}

/* The executable's path, read now when no pattern matched the invocation name
 * and the constructor did not read it (it costs a system call at every start;
 * here it is paid once, by a program that uses the network). */
static void late_exe(void)
{
    char *buf;
    ssize_t n;

    if ((state.exe && *state.exe) || !(buf = malloc(PATH_MAX)))
        return;
    n = readlink("/proc/self/exe", buf, PATH_MAX - 1);
    if (n <= 0) {
        free(buf);
        return;
    }
    buf[n] = '\0';
    state.exe = buf;
}

/* What the processes this one starts inherit (DIALSHIM_PARENT_APP, which exec
 * keeps, /proc/self/exe included): this app when it matched or was inherited
 * and has `inherit = true`; nothing when it matched with `inherit = false`. */
static void pass_down(const struct conf *c)
{
    const char *now = state_cap.parent_app;

    if (state.app < 0 || (state.app_why != APP_BY_NAME && state.app_why != APP_BY_PATH &&
                          state.app_why != APP_BY_EXE_NAME && state.app_why != APP_BY_PARENT))
        return;
    if (!c->apps[state.app].inherit) {
        if (now)
            unsetenv("DIALSHIM_PARENT_APP");
    } else if (!now || strcmp(now, c->apps[state.app].name) != 0) {
        setenv("DIALSHIM_PARENT_APP", c->apps[state.app].name, 1);
    }
}

static void pick_app(const struct conf *c, const char *forced)
{
    struct app_who who = {forced, state.prog, state.exe, state_cap.parent_app};

    state.app = app_pick(c, &who, &state.app_why, &state.app_matched);
    if (!(forced && *forced) && state.app_why != APP_BY_NAME && state.app_why != APP_BY_PATH &&
        app_needs_exe(c)) {
        late_exe();
        who.exe = state.exe;
        state.app = app_pick(c, &who, &state.app_why, &state.app_matched);
    }
    if (state.app != -2)
        pass_down(c);
}

void state_load(void)
{
    const char *lvl = state_cap.log, *logfile = state_cap.log_file, *app = state_cap.app;
    struct conf *c = NULL;

    owner_set();
    log_open(level_from(lvl, LOG_LVL_WARN), logfile);
    if (!state.path[0])
        return;
    fdtab_init();
    if (!state_cap.text) {
        char why[160];

        /* strerrordesc_np: the English text, as strerror gave it before any
         * setlocale, whatever the program has set since */
        if (state_cap.why_errno)
            snprintf(why, sizeof(why), "%s: %s", state_cap.why,
                     strerrordesc_np(state_cap.why_errno));
        report(NULL, state.path, 0, state_cap.why_errno ? why : state_cap.why);
    } else
        c = conf_load_text(state.path, state_cap.text, state_cap.len, state_cap.mode, report, NULL);
    if (c && support_check(c, report, NULL)) {
        conf_free(c);
        c = NULL;
    }
    if (!c) {
        load_broken();
        release_text();
        return;
    }
    release_text();
    log_open(level_from(lvl, c->log_level), logfile && *logfile ? logfile : c->log_file);
    log_set_format(c->log_format);
    pick_app(c, app);
    if (state.app == -2) {
        log_error("DIALSHIM_APP=%s: no [app %s] in %s", app, app, state.path);
        state.broken = c->on_config_error == ON_ERROR_FAIL_CLOSED;
        conf_free(c);
        return;
    }
    state.app_dialer = route_app_dialer(c, state.app);
    /* Fake addresses only exist where the file asks for them: a program that
     * really talks to 198.18.0.0/15 must not find its packets taken for names. */
    if (uses_fake_ip(c) && fakeip_init(c) != 0) {
        log_warn("fake-ip tables: out of memory; fake addresses disabled");
    } else {
        char dir[CONF_STATE_DIR_MAX];
        state.dns_hijack = uses_fake_ip(c) && c->dns_hijack;
        /* with a state_dir, one table for all the user's processes (a browser
         * resolves in one process and connects from another) */
        if (uses_fake_ip(c) && statedir_path(c, dir, sizeof(dir), NULL) == 0)
            fakeip_share(c);
    }
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

/* The configuration and the descriptor table carry over as they are, and the
 * child owns its copy of them (common/owner.h); the fake-ip table and the DNS
 * cache get usable locks again. */
void state_atfork_child(void)
{
    owner_set();
    fakeip_atfork_child();
    dns_atfork_child();
}

HOT_PATH enum gate state_gate(int family)
{
    if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
        return GATE_PASS;
    if (state.active)
        return GATE_HANDLE;
    if (!state.broken)
        return GATE_PASS;
    /* An AF_UNSPEC destination is an IPv4 one on some sockets: the engine looks. */
    return family == AF_UNSPEC ? GATE_HANDLE : GATE_DENY;
}
