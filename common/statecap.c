/* statecap: state_capture() and the lookups it shares with the tool
 * (state_find_config, state_env, state_secure): the work of every process start
 * under the shim, which reads and copies but parses nothing (common/state.h).
 */
#include "common/state.h"
#include "common/state_int.h"

#include "common/nobss.h"
#include "common/rawfile.h"

#include <errno.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

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
STARTUP static size_t len_max(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

STARTUP static void copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = src[i];
        __asm__("" ::: "memory"); /* stays a loop, not a call to memcpy */
    }
}

STARTUP static bool starts(const char *s, const char *prefix, size_t n)
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

STARTUP static bool readable(const char *p)
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

#define FILE_MAX (1024 * 1024)

/* Written by the constructor, right after `state` (shim/start.ld). */
struct state_capture state_cap START_DATA("2");

STARTUP static size_t room(void)
{
    return sizeof(state_cap.arena) - state_cap.used;
}

/* A copy of S in the arena (S's length is bounded by the caller's room). */
STARTUP static const char *keep(const char *s)
{
    char *out = state_cap.arena + state_cap.used;
    size_t n = len_max(s, PATH_MAX - 1);

    copy(out, s, n);
    out[n] = '\0';
    state_cap.used += n + 1;
    return out;
}

/* Does the line starting at TEXT + LS begin, after blanks (and a BOM before
 * line 1), with "match"? Lines as the parser cuts them (conf/line.h); TEXT ends
 * with a NUL at LEN. */
STARTUP static bool match_line(const char *text, size_t len, size_t ls)
{
    const char *q = text + ls, *end = text + len;

    if (ls == 0 && len >= 3 && starts(q, bom, 3))
        q += 3;
    while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\v' || *q == '\f')
        q++;
    return end - q >= 5 && starts(q, match_key, 5);
}

#if defined(__SSE2__)
/* Sixteen copies of a byte, from STARTUP_STR, not the constant pool that
 * _mm_set1_epi8 would use: that lies in .rodata, whose page the start would
 * fault in for these bytes. */
static const char newlines[16] STARTUP_STR __attribute__((aligned(16))) = {
    '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n', '\n'};
static const char slashes[16] STARTUP_STR __attribute__((aligned(16))) = {
    '/', '/', '/', '/', '/', '/', '/', '/', '/', '/', '/', '/', '/', '/', '/', '/'};

STARTUP static __m128i sixteen(const char *copies)
{
    __asm__("" : "+r"(copies)); /* or the compiler folds it into the pool */
    return _mm_load_si128((const __m128i *)(const void *)copies);
}
#endif

/* Where the line holding TEXT[AT] starts, looking back no further than FLOOR
 * (a position already known to be on an earlier line, or 0): sixteen bytes at a
 * time where SSE2 is there. */
STARTUP static size_t line_start(const char *text, size_t at, size_t floor)
{
#if defined(__SSE2__)
    __m128i nl = sixteen(newlines);

    for (; at - floor >= 16; at -= 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(text + at - 16));
        unsigned n = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, nl));

        if (n) /* the last newline of the sixteen */
            return at - 16 + 32 - (size_t)__builtin_clz(n);
    }
#endif
    while (at > floor && text[at - 1] != '\n')
        at--;
    return at;
}

/* Does the line of the slash at TEXT[AT] start with "match"? PREV: the previous
 * slash looked at (its line already answered), or SIZE_MAX. A line with many
 * slashes is looked at once. */
STARTUP static bool slash_matches(const char *text, size_t len, size_t at, size_t *prev)
{
    bool first = *prev == SIZE_MAX;
    size_t floor = first ? 0 : *prev + 1, ls = line_start(text, at, floor);

    *prev = at;
    if (!first && ls == floor)
        return false; /* no newline since the previous slash: its line, answered no */
    return match_line(text, len, ls);
}

/* Does a match line of the file name a path? Only a path glob needs
 * /proc/self/exe, and reading that link is the dearest system call of a small
 * program's start under the shim (procfs makes an inode for each new process).
 * Conservative: any line whose first word starts with "match" and that holds a
 * slash anywhere counts. The slashes are found 64 bytes at a time where SSE2 is
 * there (a byte loop over a 50-app file was most of the constructor's
 * instructions; no libc memchr, see above), one at a time elsewhere; each one's
 * line start is found by looking back, no further than the slash before it. */
STARTUP bool state_wants_exe(const char *text, size_t len)
{
    size_t i = 0, prev = SIZE_MAX;

#if defined(__SSE2__)
    __m128i sl = sixteen(slashes);

    for (; len - i >= 64; i += 64) {
        const __m128i *p = (const __m128i *)(const void *)(text + i);
        __m128i e0 = _mm_cmpeq_epi8(_mm_loadu_si128(p), sl);
        __m128i e1 = _mm_cmpeq_epi8(_mm_loadu_si128(p + 1), sl);
        __m128i e2 = _mm_cmpeq_epi8(_mm_loadu_si128(p + 2), sl);
        __m128i e3 = _mm_cmpeq_epi8(_mm_loadu_si128(p + 3), sl);
        uint64_t s;

        if (!_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(e0, e1), _mm_or_si128(e2, e3))))
            continue;
        s = (uint64_t)(unsigned)_mm_movemask_epi8(e0) |
            (uint64_t)(unsigned)_mm_movemask_epi8(e1) << 16 |
            (uint64_t)(unsigned)_mm_movemask_epi8(e2) << 32 |
            (uint64_t)(unsigned)_mm_movemask_epi8(e3) << 48;
        for (; s; s &= s - 1)
            if (slash_matches(text, len, i + (size_t)__builtin_ctzll(s), &prev))
                return true;
    }
#endif
    for (; i < len; i++)
        if (text[i] == '/' && slash_matches(text, len, i, &prev))
            return true;
    return false;
}

/* The program's name, and its path when a match pattern may need it (read now,
 * not on the first hook: the program may chroot away from /proc before that). */
STARTUP static void who_am_i(bool need_exe)
{
    const char *name = program_invocation_short_name;
    size_t k = len_max(name, sizeof(state.prog) - 1);

    copy(state.prog, name, k);
    state.prog[k] = '\0';
    if (need_exe) {
        char *out = state_cap.arena + state_cap.used;
        ssize_t n = readlink(self_exe, out, PATH_MAX - 1);

        out[n > 0 ? n : 0] = '\0';
        state.exe = out;
        state_cap.used += (n > 0 ? (size_t)n : 0) + 1;
    }
}

/* Why the file could not be read, put in words by state_load: formatting it here
 * (snprintf, strerror_r) would fault in pages of libc at the start of a program
 * that may never use the network. */
STARTUP static void cannot(const char *what, int e)
{
    state_cap.why = what;
    state_cap.why_errno = e;
}

/* In the arena when it leaves room for the exe path after it. */
STARTUP static char *read_whole(int fd, size_t size, size_t *len)
{
    char *buf = size + PATH_MAX < room() ? state_cap.arena + state_cap.used : malloc(size + 1);
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
        if (buf != state_cap.arena + state_cap.used)
            free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* O_NONBLOCK: a FIFO would block the program's start-up until a writer came. */
STARTUP static int open_file(const char *path)
{
    return rawfile_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

STARTUP static void capture_file(int fd)
{
    struct stat st;

    if (rawfile_stat(fd, &st) < 0)
        cannot("cannot open", errno);
    else if (S_ISDIR(st.st_mode))
        cannot("cannot open: Is a directory", 0);
    else if (!S_ISREG(st.st_mode))
        cannot("cannot open: not a regular file", 0);
    else if (st.st_size > FILE_MAX)
        cannot("cannot read: file too large (max 1 MiB)", 0);
    else {
        state_cap.text = read_whole(fd, (size_t)st.st_size, &state_cap.len);
        state_cap.mode = st.st_mode;
    }
    rawfile_close(fd);
}

/* The variables the constructor reads, found in one pass over the environment
 * (state_env per name would pass over it seven times). All NULL under AT_SECURE. */
struct env_seen {
    const char *config, *log, *log_file, *app, *parent_app, *xdg, *home;
};

STARTUP static void env_scan(struct env_seen *v)
{
    static const char dialshim[] STARTUP_STR = "DIALSHIM_";
    struct {
        const char *name;
        const char **slot;
    } const names[] = {
        {env_config, &v->config},
        {env_log, &v->log},
        {env_log_file, &v->log_file},
        {env_app, &v->app},
        {env_parent_app, &v->parent_app},
        {env_xdg, &v->xdg},
        {env_home, &v->home},
    };

    *v = (struct env_seen){0};
    if (state_secure())
        return;
    for (char **e = environ; e && *e; e++) {
        /* most variables fail on their first letter, or on "DIALSHIM_" */
        if (**e != 'D' && **e != 'X' && **e != 'H')
            continue;
        if (**e == 'D' && !starts(*e, dialshim, 9))
            continue;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            size_t n = len_max(names[i].name, SIZE_MAX);

            if (starts(*e, names[i].name, n) && (*e)[n] == '=') {
                if (!*names[i].slot) /* getenv's answer: the first */
                    *names[i].slot = *e + n + 1;
                break;
            }
        }
    }
}

/* Would access(2) have refused PATH with errno E? Then the file is not there for
 * us and the next place is tried; any other failure to open is reported. */
STARTUP static bool absent(int e)
{
    return e == ENOENT || e == ENOTDIR || e == EACCES || e == ELOOP || e == ENAMETOOLONG;
}

/* Open the configuration file, looked for as state_find_config() does; its path
 * goes to OUT (PATH_MAX), "" when there is none. Returns the descriptor, or -1
 * with the reason recorded (or none found). Outside AT_SECURE the real and
 * effective ids are the same, so opening each place in turn answers what
 * access(R_OK) then open answered, one system call sooner; under AT_SECURE
 * (real ids matter, and only /etc is looked at) access comes first, as there. */
STARTUP static int open_config(char *out, const struct env_seen *v)
{
    int fd;

    if (v->config && *v->config) {
        join(out, PATH_MAX, v->config, nothing);
        if ((fd = open_file(out)) < 0)
            cannot("cannot open", errno);
        return fd;
    }
    if (v->xdg && *v->xdg)
        join(out, PATH_MAX, v->xdg, under_xdg);
    else if (v->home && *v->home)
        join(out, PATH_MAX, v->home, under_home);
    else
        out[0] = '\0';
    if (out[0] && ((fd = open_file(out)) >= 0 || !absent(errno))) {
        if (fd < 0)
            cannot("cannot open", errno);
        return fd;
    }
    join(out, PATH_MAX, in_etc, nothing);
    if (state_secure() && !readable(out)) {
        out[0] = '\0';
        return -1;
    }
    if ((fd = open_file(out)) >= 0 || !absent(errno)) {
        if (fd < 0)
            cannot("cannot open", errno);
        return fd;
    }
    out[0] = '\0';
    return -1;
}

STARTUP void state_capture(void)
{
    struct env_seen v;
    char *path;
    int fd;

    state.path = state.exe = nothing;
    env_scan(&v);
    state_cap.log = v.log ? keep(v.log) : NULL;
    state_cap.log_file = v.log_file ? keep(v.log_file) : NULL;
    state_cap.app = v.app ? keep(v.app) : NULL;
    state_cap.parent_app = v.parent_app ? keep(v.parent_app) : NULL;
    path = state_cap.arena + state_cap.used;
    fd = open_config(path, &v);
    if (!path[0])
        return; /* no configuration anywhere: the shim stays out of the way */
    state.path = path;
    state_cap.used += len_max(path, PATH_MAX) + 1;
    if (fd >= 0)
        capture_file(fd);
    if (state_cap.text == state_cap.arena + state_cap.used)
        state_cap.used += state_cap.len + 1;
    /* DIALSHIM_APP wins over any match; an unreadable file matches nothing. */
    who_am_i(!(state_cap.app && *state_cap.app) && state_cap.text &&
             state_wants_exe(state_cap.text, state_cap.len));
}
