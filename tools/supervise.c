/* The supervisor's start: whether a program runs under it (supervise key,
 * --supervise / --no-supervise, the program's file), the kernel's features, the
 * filter, the fork, and the wait for the program's status (tools/supervise.h). */
#include "tools/supervise.h"

#include "common/fakeip.h"
#include "common/log.h"
#include "common/lookup.h"
#include "common/route.h"
#include "common/state.h"
#include "tools/elf.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_USAGE  2
#define EXIT_CANNOT 126

struct sup sup = {.listener = -1};

/* ---- who needs it ---- */

/* 1: PATH is a static or Go program (LD_PRELOAD cannot reach it), 0: not, or
 * nothing can be said (a script, another class). */
static int unreachable(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct elf_facts f;
    struct stat st;
    unsigned char *m;
    int rc = 0;

    if (fd < 0)
        return 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (unsigned long long)st.st_size <= SIZE_MAX) {
        m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            rc = elf_inspect(m, (size_t)st.st_size, &f) == 0 && (!f.interp || f.go);
            munmap(m, (size_t)st.st_size);
        }
    }
    close(fd);
    return rc;
}

/* Every dialer APP can route to is a plain `direct`: nothing to enforce. */
static bool all_direct(const struct conf *c, int app)
{
    if (c->dialers[route_app_dialer(c, app)].type != DIALER_DIRECT)
        return false;
    for (int i = 0; app >= 0 && i < c->apps[app].n_rules; i++)
        if (c->dialers[c->apps[app].rules[i].dialer].type != DIALER_DIRECT)
            return false;
    return true;
}

/* Every app of C routes directly: a program of the tree may match any of them
 * (a child exec'd under another [app]), so io_uring and getpeername are left
 * alone only then. */
static bool all_direct_anywhere(const struct conf *c)
{
    for (int app = APP_BUILTIN; app < c->n_apps; app++)
        if (!all_direct(c, app))
            return false;
    return true;
}

void supervise_explain(const struct conf *c, const char *program)
{
    const char *why = NULL;

    if (!program)
        return;
    if (c->supervise == SUPERVISE_ALWAYS)
        why = "supervise = always";
    else if (c->supervise == SUPERVISE_AUTO && strchr(program, '/') && unreachable(program))
        why = "a static or Go program: LD_PRELOAD cannot reach it";
    if (why)
        printf("interception: supervised (seccomp; %s)\n", why);
    else
        printf("interception: preload (libdialshim.so)%s\n",
               c->supervise == SUPERVISE_NEVER ? "; supervise = never" : "");
}

/* Every program of the tree gets the same app: forced (-p), or the first
 * section matches any name. */
static bool one_app(const struct conf *c, const char *forced)
{
    if (forced && *forced)
        return true;
    for (int j = 0; c->n_apps > 0 && j < c->apps[0].n_match; j++)
        if (!strcmp(c->apps[0].match[j], "*"))
            return true;
    return false;
}

int sup_app_of(pid_t tid, char *prog, size_t cap)
{
    char path[64], exe[PATH_MAX], copy[PATH_MAX];
    const struct conf *c = state.conf;
    struct app_who who = {sup.forced_app, NULL, exe, NULL};
    enum app_reason why;
    const char *matched;
    ssize_t n;
    int app;

    /* The name is only shown in lines at warn or below. */
    if (sup.one_app && !log_enabled(LOG_LVL_WARN))
        return state.app;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
    if ((n = readlink(path, exe, sizeof(exe) - 1)) <= 0)
        return state.app;
    exe[n] = '\0';
    if (!strcmp(exe, sup.top_exe))
        return state.app; /* the command itself, matched by the name it was run as */
    snprintf(copy, sizeof(copy), "%s", exe);
    who.name = basename(copy);
    snprintf(prog, cap, "%s", who.name);
    who.inherited = state.app >= 0 && c->apps[state.app].inherit ? c->apps[state.app].name : NULL;
    app = app_pick(c, &who, &why, &matched);
    return app == -2 ? state.app : app;
}

/* ---- what the kernel must have ---- */

/* NULL when the supervisor can run here, else what is missing. */
static const char *missing_feature(void)
{
    unsigned int action = SECCOMP_RET_USER_NOTIF;
    struct utsname u;
    int major = 0, minor = 0;

    if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
        (major < 5 || (major == 5 && minor < 9)))
        return "Linux 5.9 or later (seccomp user notification with pidfd_getfd)";
    if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0)
        return "seccomp user notification (SECCOMP_RET_USER_NOTIF)";
    if (syscall(SYS_pidfd_getfd, -1, 0, 0) == 0 || errno == ENOSYS)
        return "pidfd_getfd";
    if (syscall(SYS_pidfd_open, getpid(), 0) < 0 && errno == ENOSYS)
        return "pidfd_open";
    return NULL;
}

/* ---- the filter ---- */

/* The rules: the calls the supervisor serves. SENDTO_ANY: every sendto (an
 * i386 socketcall's address is in memory, where BPF cannot look). */
static int add_rules(scmp_filter_ctx ctx, bool not_direct, bool sendto_any)
{
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) ||
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0) ||
        (sendto_any ? seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 0)
                    : seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1,
                                       SCMP_A4(SCMP_CMP_NE, 0))) ||
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendmsg), 0) ||
        seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendmmsg), 0))
        return -1;
    /* io_uring's connects pass every hook and the filter: the program falls back
     * to plain calls when the ring is not there. getpeername of a proxied socket
     * answers the destination, not the proxy (only when a route can proxy). */
    if (not_direct && (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) ||
                       seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getpeername), 0)))
        return -1;
    return 0;
}

/* The filter's context: the build's architecture; on x86-64 also x32 (its
 * socket calls reach the supervisor, which refuses them: supervise_arch.c) and
 * i386 (socketcall and the direct calls, which libseccomp both matches for
 * connect, sendto...; served in 32-bit layout). Any other architecture's call
 * kills the program: it cannot be judged. */
static scmp_filter_ctx make_ctx(bool not_direct)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW), i386 = NULL;

    sup.native_arch = seccomp_arch_native();
    if (!ctx)
        return NULL;
    if (sup.native_arch != SCMP_ARCH_X86_64)
        return add_rules(ctx, not_direct, false) ? (seccomp_release(ctx), NULL) : ctx;
    /* Every architecture before the rules: libseccomp gives an architecture
     * added later none of them (its calls would all be allowed). */
    if (seccomp_arch_add(ctx, SCMP_ARCH_X32) || add_rules(ctx, not_direct, false) ||
        !(i386 = seccomp_init(SCMP_ACT_ALLOW)) || seccomp_arch_remove(i386, SCMP_ARCH_NATIVE) ||
        seccomp_arch_add(i386, SCMP_ARCH_X86) || add_rules(i386, not_direct, true) ||
        seccomp_merge(ctx, i386))
        goto fail;
    return ctx; /* the merge took I386 */
fail:
    if (i386)
        seccomp_release(i386);
    if (ctx)
        seccomp_release(ctx);
    return NULL;
}

/* The filter as BPF, built by libseccomp and exported (the flags it is loaded
 * with are ours: libseccomp 2.5 knows no WAIT_KILLABLE_RECV). */
static int build_filter(bool not_direct, struct sock_fprog *prog)
{
    scmp_filter_ctx ctx = make_ctx(not_direct);
    int fd = memfd_create("dialshim-filter", MFD_CLOEXEC), rc = -1;
    off_t len;

    if (!ctx || fd < 0)
        goto out;
    if (seccomp_export_bpf(ctx, fd) || (len = lseek(fd, 0, SEEK_END)) <= 0 ||
        len % sizeof(struct sock_filter))
        goto out;
    prog->len = (unsigned short)(len / sizeof(struct sock_filter));
    prog->filter = malloc((size_t)len);
    if (prog->filter && pread(fd, prog->filter, (size_t)len, 0) == len)
        rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (ctx)
        seccomp_release(ctx);
    return rc;
}

/* ---- the program ---- */

static void die_child(int out, const char *what, int err)
{
    dprintf(2, "dialshim: cannot supervise: %s: %s\n", what, strerror(err));
    (void)out;
    _exit(EXIT_CANNOT);
}

/* In the child: die with the supervisor, load the filter, tell the parent the
 * listener's number (it takes it with pidfd_getfd: a sendmsg would already be
 * trapped), wait until it has it, then exec. Never returns. */
static void child_run(pid_t parent, int to_parent, int from_parent, struct sock_fprog *prog,
                      char **argv)
{
    unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
    char ok;
    int fd;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        die_child(to_parent, "PR_SET_PDEATHSIG", errno);
    if (getppid() != parent)
        _exit(EXIT_CANNOT); /* the supervisor is gone already */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die_child(to_parent, "PR_SET_NO_NEW_PRIVS", errno);
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    /* Once a trapped call is received, only a fatal signal ends the wait: an
     * EINTR would leave the supervisor's handshake running on the socket and a
     * restarted call would start a second one. */
    fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                      flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, prog);
    if (fd < 0 && errno == EINVAL)
#endif
        fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
    if (fd < 0)
        die_child(to_parent, "the seccomp filter", errno);
    if (write(to_parent, &fd, sizeof(fd)) != sizeof(fd) || read(from_parent, &ok, 1) != 1)
        _exit(EXIT_CANNOT);
    close(fd);
    close(to_parent);
    close(from_parent);
    execvp(argv[0], argv);
    dprintf(2, "dialshim: %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : EXIT_CANNOT);
}

/* In the parent: the child's listener, by pidfd_getfd (O_CLOEXEC). -1 with a
 * message when it cannot be had (no ptrace permission over the child). */
static int take_listener(pid_t child, int from_child, int to_child)
{
    int num, pidfd, fd = -1;
    char ok = 1;

    if (read(from_child, &num, sizeof(num)) != sizeof(num))
        return -1; /* the child said why */
    pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    if (pidfd >= 0)
        fd = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0);
    if (fd < 0)
        fprintf(stderr,
                "dialshim: cannot supervise: taking the program's seccomp listener: %s "
                "(pidfd_getfd needs ptrace permission over the child)\n",
                strerror(errno));
    if (pidfd >= 0)
        close(pidfd);
    if (fd >= 0 && write(to_child, &ok, 1) != 1)
        fd = -1;
    return fd;
}

static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    /* A terminal's signal reached the whole process group already. */
    if (si->si_code == SI_USER || si->si_code == SI_QUEUE)
        kill(sup.child, sig);
}

static void forward_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    struct sigaction sa = {.sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART};

    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* The program's status as ours: its code, or its signal raised on us. */
static int wait_program(void)
{
    int st;

    while (waitpid(sup.child, &st, 0) < 0)
        if (errno != EINTR)
            return EXIT_CANNOT;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    signal(WTERMSIG(st), SIG_DFL);
    fflush(NULL);
    raise(WTERMSIG(st));
    return 128 + WTERMSIG(st);
}

/* The file was checked before: its problems were printed then. */
static void quiet(void *ctx, const char *file, int line, const char *msg)
{
    (void)ctx, (void)file, (void)line, (void)msg;
}

/* `state` as the shim would have it in the program: the file, its app, its name. */
static int load_state(const struct supervise_run *r, struct conf **out)
{
    char copy[PATH_MAX];
    int errors = 0;
    struct conf *c = conf_load(r->config, quiet, &errors);
    static const char *levels[] = {"error", "warn", "info", "debug", "trace"};
    enum log_level lvl;

    if (!c)
        return -1;
    lvl = c->log_level;
    for (int i = 0; r->level && i < 5; i++)
        if (!strcmp(r->level, levels[i]))
            lvl = (enum log_level)i;
    log_open(lvl, c->log_file);
    snprintf(copy, sizeof(copy), "%s", r->file);
    snprintf(state.prog, sizeof(state.prog), "%s", basename(copy));
    state.exe = r->file;
    state.path = r->config;
    {
        struct app_who who = {r->app, state.prog, r->file, getenv("DIALSHIM_PARENT_APP")};
        state.app = app_pick(c, &who, &state.app_why, &state.app_matched);
    }
    state.app_dialer = route_app_dialer(c, state.app);
    if (sup_names_anywhere(c) && fakeip_init(c) != 0)
        log_warn("fake-ip tables: out of memory; fake addresses disabled");
    state.conf = c;
    state.active = true;
    sup.forced_app = r->app;
    sup.one_app = one_app(c, r->app);
    if (!realpath(r->file, sup.top_exe))
        sup.top_exe[0] = '\0';
    *out = c;
    return 0;
}

/* The program and its children are routed here, not by a preloaded shim as
 * well: libdialshim.so leaves LD_PRELOAD (cmd_run put it there). */
static void unpreload(void)
{
    const char *old = getenv("LD_PRELOAD");
    char kept[4096] = "", copy[4096];
    size_t off = 0;

    if (!old)
        return;
    snprintf(copy, sizeof(copy), "%s", old);
    for (char *save, *e = strtok_r(copy, ": ", &save); e; e = strtok_r(NULL, ": ", &save)) {
        const char *base = strrchr(e, '/') ? strrchr(e, '/') + 1 : e;
        if (strcmp(base, "libdialshim.so") != 0 && off < sizeof(kept))
            off += (size_t)snprintf(kept + off, sizeof(kept) - off, "%s%s", off ? ":" : "", e);
    }
    if (off)
        setenv("LD_PRELOAD", kept, 1);
    else
        unsetenv("LD_PRELOAD");
}

static int supervise(const struct supervise_run *r, const struct conf *c)
{
    struct sock_fprog prog = {0};
    int up[2], down[2];
    const char *miss = missing_feature();
    pid_t me = getpid();

    if (miss) {
        fprintf(stderr, "dialshim: cannot supervise %s: this kernel lacks %s; not started\n",
                r->file, miss);
        return EXIT_CANNOT;
    }
    if (build_filter(!all_direct_anywhere(c), &prog) != 0) {
        fprintf(stderr, "dialshim: cannot supervise %s: building the seccomp filter failed\n",
                r->file);
        return EXIT_CANNOT;
    }
    if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
        return EXIT_CANNOT;
    unpreload();
    fflush(NULL);
    sup.child = fork();
    if (sup.child < 0)
        return EXIT_CANNOT;
    if (sup.child == 0)
        child_run(me, up[1], down[0], &prog, r->argv);
    close(up[1]);
    close(down[0]);
    signal(SIGPIPE, SIG_IGN); /* a send for the program on a broken socket: EPIPE here */
    forward_signals();
    sup.listener = take_listener(sup.child, up[0], down[1]);
    close(up[0]);
    close(down[1]);
    free(prog.filter);
    /* The responder's thread starts after the fork: the child of a process with
     * threads may only make async-signal-safe calls. The program's first query
     * waits in its trapped connect until the workers run. */
    sup_hook_waits();
    if (sup.listener >= 0 && sup_dns_start(c) != 0) {
        fprintf(stderr, "dialshim: cannot supervise %s: no DNS responder on loopback: %s\n",
                r->file, strerror(errno));
        close(sup.listener);
        sup.listener = -1;
    }
    if (sup.listener < 0 || sup_workers_start() != 0) {
        kill(sup.child, SIGKILL);
        waitpid(sup.child, NULL, 0);
        return EXIT_CANNOT;
    }
    log_info("%s[%d] supervised (seccomp) by dialshim[%d], app=%s%s", state.prog, (int)sup.child,
             (int)me, state.app >= 0 ? c->apps[state.app].name : "(built-in)",
             sup_names_here(c, state.app) ? ", DNS answered by the supervisor" : "");
    return wait_program();
}

int supervise_maybe(const struct supervise_run *r)
{
    struct conf *c;
    bool need = unreachable(r->file), want;
    int rc;

    if (r->force < 0)
        return SUPERVISE_PRELOAD;
    if (load_state(r, &c) != 0)
        return EXIT_USAGE;
    want = r->force > 0 || c->supervise == SUPERVISE_ALWAYS ||
           (need && c->supervise == SUPERVISE_AUTO);
    if (!want && need && !all_direct(c, state.app)) {
        fprintf(stderr,
                "dialshim: %s cannot be reached by LD_PRELOAD (statically linked or Go) and "
                "supervise = never: not started, its connections would not follow the "
                "configuration (use --supervise, or --no-supervise to run it unproxied)\n",
                r->file);
        return EXIT_USAGE;
    }
    if (!want)
        return SUPERVISE_PRELOAD;
    rc = supervise(r, c);
    return rc;
}
