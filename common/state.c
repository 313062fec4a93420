#include "common/state.h"

#include "common/dns.h"
#include "common/fakeip.h"
#include "common/fdtab.h"
#include "common/statedir.h"
#include "common/log.h"
#include "common/nobss.h"
#include "common/rawfile.h"
#include "common/support.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Written by the constructor: with its other data, in the data segment's first
 * written page (shim/start.ld). */
struct state state START_DATA("1");

/* Where the constructor's code and the strings it reads lie: at the start of
 * .text (the linker puts .text.startup.* there), in the first 64 KiB of the
 * library, which the kernel maps at once on ld.so's first fault at the headers.
 * From .rodata, 160 KiB further, the strings cost a fault of their own at every
 * start, with 16 pages to map then and unmap at exit. */
#define STARTUP     __attribute__((section(".text.startup.dialshim")))
#define STARTUP_STR __attribute__((section(".text.startup.dialshim_str")))

static const char env_config[] STARTUP_STR = "DIALSHIM_CONFIG";
static const char env_log[] STARTUP_STR = "DIALSHIM_LOG";
static const char env_log_file[] STARTUP_STR = "DIALSHIM_LOG_FILE";
static const char env_app[] STARTUP_STR = "DIALSHIM_APP";
static const char env_parent_app[] STARTUP_STR = "DIALSHIM_PARENT_APP";
static const char env_xdg[] STARTUP_STR = "XDG_CONFIG_HOME";
static const char env_home[] STARTUP_STR = "HOME";
static const char under_xdg[] STARTUP_STR = "/dialshim/dialshim.ini";
static const char under_home[] STARTUP_STR = "/.config/dialshim/dialshim.ini";
static const char in_etc[] STARTUP_STR = "/etc/dialshim.ini";
static const char self_exe[] STARTUP_STR = "/proc/self/exe";
static const char match_key[] STARTUP_STR = "match";
static const char bom[] STARTUP_STR = "\xef\xbb\xbf";
static const char nothing[] STARTUP_STR = "";

/* The constructor's string work is done here, not by libc: the first call of each
 * libc function through the PLT costs a lazy symbol lookup (and an IFUNC
 * resolution for the string functions), and getenv, strnlen, memcpy, strlen and
 * memchr were five of them in every program's start. */
static size_t len_max(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

static void copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        __asm__("" ::: "memory"); /* stays a loop, not a call to memcpy */
    }
}

static bool starts(const char *s, const char *prefix, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != prefix[i])
            return false;
    return true;
}

STARTUP bool state_secure(void)
{
    return getauxval(AT_SECURE) != 0;
}

/* getenv(3), from environ as it is now. */
STARTUP const char *state_env(const char *name)
{
    size_t n = len_max(name, SIZE_MAX);

    if (state_secure())
        return NULL;
    for (char **e = environ; e && *e; e++)
        if (starts(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static bool readable(const char *p)
{
    return access(p, R_OK) == 0;
}

/* OUT = A followed by B, cut to CAP - 1 bytes. (Not snprintf: the constructor
 * would be the first caller of vfprintf in a small program and pay for faulting
 * it in: a few percent of its start.) */
STARTUP static void join(char *out, size_t cap, const char *a, const char *b)
{
    size_t na = len_max(a, cap - 1), nb = len_max(b, cap - 1 - na);

    copy(out, a, na);
    copy(out + na, b, nb);
    out[na + nb] = '\0';
}

STARTUP bool state_find_config(char *out, size_t cap)
{
    const char *env = state_env(env_config), *xdg, *home;

    if (env && *env) {
        join(out, cap, env, nothing);
        return true;
    }
    xdg = state_env(env_xdg);
    home = state_env(env_home);
    if (xdg && *xdg) {
        join(out, cap, xdg, under_xdg);
        if (readable(out))
            return true;
    } else if (home && *home) {
        join(out, cap, home, under_home);
        if (readable(out))
            return true;
    }
    join(out, cap, in_etc, nothing);
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

/* What state_capture() keeps for state_load(): the file's bytes and the
 * environment as they were when the program started. The strings and the text
 * share one arena, back to back, so an ordinary start touches one or two pages of
 * it rather than one per PATH_MAX array. */
#define CAPTURE_INLINE 16384 /* most files fit: no heap touched at start-up */
#define FILE_MAX       (1024 * 1024)

static struct {
    const char *log, *log_file, *app; /* NULL: not set */
    const char *parent_app;           /* the app passed down by a parent, or NULL */
    char *text; /* in the arena, or the heap for a big file; NULL: unreadable */
    size_t len, used;
    mode_t mode;
    char arena[3 * PATH_MAX + CAPTURE_INLINE];
    char why[160]; /* why the file could not be read (after the arena: rarely written) */
} cap START_DATA("2");

static size_t room(void)
{
    return sizeof(cap.arena) - cap.used;
}

/* A copy of S in the arena (S's length is bounded by the caller's room). */
static const char *keep(const char *s)
{
    char *out = cap.arena + cap.used;
    size_t n = len_max(s, PATH_MAX - 1);

    copy(out, s, n);
    out[n] = '\0';
    cap.used += n + 1;
    return out;
}

STARTUP static const char *keep_env(const char *name)
{
    const char *v = state_env(name);

    return v ? keep(v) : NULL;
}

/* The first '/' at or after P, or END: eight bytes at a time (a byte loop over a
 * 50-app file was a quarter of the constructor's instructions), with no libc
 * memchr (see above). */
static const char *next_slash(const char *p, const char *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t w;

    for (; end - p >= 8; p += 8) {
        __builtin_memcpy(&w, p, 8);
        w ^= ones * '/';
        if ((w - ones) & ~w & highs)
            break;
    }
    while (p < end && *p != '/')
        p++;
    return p;
}

/* Does a match line of the file name a path? Only a path glob needs
 * /proc/self/exe, and reading that link is the dearest system call of a small
 * program's start under the shim (procfs makes an inode for each new process).
 * Conservative: any line whose first word starts with "match" and that holds a
 * slash anywhere counts. Lines as the parser cuts them (conf/line.h: by "\n",
 * a BOM before line 1), but only those holding a slash are looked at: the
 * scan goes from slash to slash. */
static bool wants_exe(const char *text, size_t len)
{
    const char *end = text + len, *p = text, *q;

    while ((p = next_slash(p, end)) < end) {
        q = p;
        while (q > text && q[-1] != '\n')
            q--;
        if (q == text && len >= 3 && starts(q, bom, 3))
            q += 3;
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\v' || *q == '\f')
            q++;
        if (end - q >= 5 && starts(q, match_key, 5))
            return true;
        while (p < end && *p != '\n') /* the line's other slashes */
            p++;
    }
    return false;
}

/* The program's name, and its path when a match pattern may need it (read now,
 * not on the first hook: the program may chroot away from /proc before that). */
static void who_am_i(bool need_exe)
{
    const char *name = program_invocation_short_name;
    size_t k = len_max(name, sizeof(state.prog) - 1);

    copy(state.prog, name, k);
    state.prog[k] = '\0';
    if (need_exe) {
        char *out = cap.arena + cap.used;
        ssize_t n = readlink(self_exe, out, PATH_MAX - 1);

        out[n > 0 ? n : 0] = '\0';
        state.exe = out;
        cap.used += (n > 0 ? (size_t)n : 0) + 1;
    }
}

static void cannot(const char *what, int e)
{
    char buf[96];

    snprintf(cap.why, sizeof(cap.why), "%s: %s", what, strerror_r(e, buf, sizeof(buf)));
}

/* In the arena when it leaves room for the exe path after it. */
static char *read_whole(int fd, size_t size, size_t *len)
{
    char *buf = size + PATH_MAX < room() ? cap.arena + cap.used : malloc(size + 1);
    ssize_t got = 0;

    *len = 0;
    if (!buf) {
        cannot("cannot read", ENOMEM);
        return NULL;
    }
    while (*len < size) {
        got = rawfile_pread(fd, buf + *len, size - *len, (off_t)*len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        *len += (size_t)got;
    }
    if (got < 0) {
        cannot("cannot read", errno);
        if (buf != cap.arena + cap.used)
            free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

static void capture_file(const char *path)
{
    /* O_NONBLOCK: a FIFO would block the program's start-up until a writer came. */
    int fd = rawfile_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;

    if (fd < 0) {
        cannot("cannot open", errno);
        return;
    }
    if (rawfile_stat(fd, &st) < 0)
        cannot("cannot open", errno);
    else if (S_ISDIR(st.st_mode))
        snprintf(cap.why, sizeof(cap.why), "cannot open: Is a directory");
    else if (!S_ISREG(st.st_mode))
        snprintf(cap.why, sizeof(cap.why), "cannot open: not a regular file");
    else if (st.st_size > FILE_MAX)
        snprintf(cap.why, sizeof(cap.why), "cannot read: file too large (max 1 MiB)");
    else {
        cap.text = read_whole(fd, (size_t)st.st_size, &cap.len);
        cap.mode = st.st_mode;
    }
    rawfile_close(fd);
}

STARTUP void state_capture(void)
{
    char *path;

    state.path = state.exe = "";
    cap.log = keep_env(env_log);
    cap.log_file = keep_env(env_log_file);
    cap.app = keep_env(env_app);
    cap.parent_app = keep_env(env_parent_app);
    path = cap.arena + cap.used;
    if (!state_find_config(path, PATH_MAX))
        return; /* no configuration anywhere: the shim stays out of the way */
    state.path = path;
    cap.used += len_max(path, PATH_MAX) + 1;
    capture_file(state.path);
    if (cap.text == cap.arena + cap.used)
        cap.used += cap.len + 1;
    /* DIALSHIM_APP wins over any match; an unreadable file matches nothing. */
    who_am_i(!(cap.app && *cap.app) && cap.text && wants_exe(cap.text, cap.len));
}

static void release_text(void)
{
    if (!cap.text)
        return;
    explicit_bzero(cap.text, cap.len); /* it may hold a password */
    if (cap.text < cap.arena || cap.text >= cap.arena + sizeof(cap.arena))
        free(cap.text);
    cap.text = NULL;
}

static void load_broken(void)
{
    state.broken = !(cap.text && conf_scan_pass_through(cap.text, cap.len));
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
    n = readlink(self_exe, buf, PATH_MAX - 1);
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
    const char *now = cap.parent_app;

    if (state.app < 0 || (state.app_why != APP_BY_NAME && state.app_why != APP_BY_PATH &&
                          state.app_why != APP_BY_EXE_NAME && state.app_why != APP_BY_PARENT))
        return;
    if (!c->apps[state.app].inherit) {
        if (now)
            unsetenv(env_parent_app);
    } else if (!now || strcmp(now, c->apps[state.app].name) != 0) {
        setenv(env_parent_app, c->apps[state.app].name, 1);
    }
}

static void pick_app(const struct conf *c, const char *forced)
{
    struct app_who who = {forced, state.prog, state.exe, cap.parent_app};

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
    const char *lvl = cap.log, *logfile = cap.log_file, *app = cap.app;
    struct conf *c = NULL;

    log_open(level_from(lvl, LOG_LVL_WARN), logfile);
    if (!state.path[0])
        return;
    fdtab_init();
    if (!cap.text)
        report(NULL, state.path, 0, cap.why);
    else
        c = conf_load_text(state.path, cap.text, cap.len, cap.mode, report, NULL);
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

/* The configuration and the descriptor table carry over as they are; the fake-ip
 * table and the DNS cache get usable locks again. */
void state_atfork_child(void)
{
    fakeip_atfork_child();
    dns_atfork_child();
}

enum gate state_gate(int family)
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
