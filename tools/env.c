/* env and shell: the shim for a whole interactive shell, torsocks's `on`/`off`
 * (dialshim(1) COMMANDS).
 *
 *   eval "$(dialshim env -c f.ini)"   every later command of this shell goes through it
 *   eval "$(dialshim env --off)"      and no more: only our library leaves LD_PRELOAD
 *   dialshim shell -c f.ini           a new $SHELL under the shim, its prompt marked
 */
#include "tools/tool.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHIM_NAME "libdialshim.so"
#define PROMPT    "(dialshim) "

/* S as one shell word: single quotes, a quote inside as '\''. Anything else
 * (spaces, $, `, \, newlines) stands for itself between single quotes. */
static void put_quoted(const char *s)
{
    putchar('\'');
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    }
    putchar('\'');
}

static void put_export(const char *name, const char *value)
{
    printf("export %s=", name);
    put_quoted(value);
    putchar('\n');
}

/* Is the LD_PRELOAD entry E (LEN bytes) a dialshim library, whatever its directory? */
static bool is_ours(const char *e, size_t len)
{
    size_t n = strlen(SHIM_NAME);

    return len >= n && memcmp(e + len - n, SHIM_NAME, n) == 0 &&
           (len == n || e[len - n - 1] == '/');
}

/* OLD without any dialshim library, entries joined by ':' (the loader takes ':'
 * and ' ' alike). Returns false when it does not fit in CAP. */
static bool preload_without(const char *old, char *out, size_t cap)
{
    size_t off = 0;

    out[0] = '\0';
    while (old && *old) {
        size_t len = strcspn(old, ": ");
        if (len && !is_ours(old, len)) {
            if (off + (off ? 1 : 0) + len + 1 > cap)
                return false;
            if (off)
                out[off++] = ':';
            memcpy(out + off, old, len);
            off += len;
            out[off] = '\0';
        }
        old += len;
        old += strspn(old, ": ");
    }
    return true;
}

/* LIB first, then OLD's other entries: as `dialshim run` does, so the shim sees a
 * call before any other preloaded library; another dialshim library is replaced. */
static bool preload_with(const char *lib, const char *old, char *out, size_t cap)
{
    static char rest[4 * PATH_MAX];
    int n;

    if (!preload_without(old, rest, sizeof(rest)))
        return false;
    n = snprintf(out, cap, "%s%s%s", lib, rest[0] ? ":" : "", rest);
    return n >= 0 && (size_t)n < cap;
}

static int env_off(void)
{
    static char rest[4 * PATH_MAX];

    if (!preload_without(getenv("LD_PRELOAD"), rest, sizeof(rest))) {
        fprintf(stderr, "dialshim: LD_PRELOAD is too long\n");
        return EXIT_USAGE;
    }
    if (rest[0])
        put_export("LD_PRELOAD", rest);
    else
        puts("unset LD_PRELOAD");
    puts("unset DIALSHIM_CONFIG DIALSHIM_APP DIALSHIM_LOG DIALSHIM_PARENT_APP");
    return 0;
}

/* The checked configuration's absolute path in PATH, the library in LIB; the
 * problem is on stderr when it returns -1. */
static int prepare(const struct opts *o, char *path, size_t pcap, char *lib, size_t lcap)
{
    struct conf *c;

    if (find_config(o, path, pcap) < 0 || !(c = load_checked(path)))
        return -1;
    if (o->app && conf_app_index(c, o->app) < 0) {
        fprintf(stderr, "dialshim: -p %s: no [app %s] in %s\n", o->app, o->app, path);
        conf_free(c);
        return -1;
    }
    conf_free(c);
    if (shim_path(lib, lcap) < 0) {
        fprintf(stderr, "dialshim: cannot find " SHIM_NAME " (looked at %s)\n", lib);
        return -1;
    }
    return 0;
}

int cmd_env(const struct opts *o, int argc, char **argv)
{
    static char path[PATH_MAX], lib[PATH_MAX], preload[4 * PATH_MAX];

    (void)argv;
    if (argc != 0 || (o->off && (o->config || o->app || o->level))) {
        fputs("usage: dialshim env [-c FILE] [-p APP] [-l LEVEL] | dialshim env --off\n", stderr);
        return EXIT_USAGE;
    }
    if (o->off)
        return env_off();
    /* Nothing on stdout unless all is well: eval of an error changes nothing. */
    if (prepare(o, path, sizeof(path), lib, sizeof(lib)) < 0)
        return EXIT_USAGE;
    if (!preload_with(lib, getenv("LD_PRELOAD"), preload, sizeof(preload))) {
        fprintf(stderr, "dialshim: LD_PRELOAD is too long\n");
        return EXIT_USAGE;
    }
    put_export("LD_PRELOAD", preload);
    put_export("DIALSHIM_CONFIG", path);
    /* An app forced by an earlier env may not exist in this file: every call
     * would then be refused. */
    if (o->app)
        put_export("DIALSHIM_APP", o->app);
    else
        puts("unset DIALSHIM_APP");
    if (o->level)
        put_export("DIALSHIM_LOG", o->level);
    return 0;
}

/* PS1 with the marker in front; a shell that exported none gets its usual look. */
static void mark_prompt(const char *shell)
{
    const char *ps1 = getenv("PS1"), *base = strrchr(shell, '/');
    char buf[1024];

    base = base ? base + 1 : shell;
    if (!ps1 || !*ps1)
        ps1 = !strcmp(base, "bash")  ? "\\u@\\h:\\w\\$ "
              : !strcmp(base, "zsh") ? "%n@%m:%~%# "
                                     : "$ ";
    snprintf(buf, sizeof(buf), PROMPT "%s", ps1);
    setenv("PS1", buf, 1);
}

int cmd_shell(const struct opts *o, int argc, char **argv)
{
    const char *shell = getenv("SHELL");
    char *args[64];

    if (!shell || shell[0] != '/')
        shell = "/bin/sh";
    if (argc + 2 > (int)(sizeof(args) / sizeof(args[0]))) {
        fprintf(stderr, "dialshim: shell: too many arguments\n");
        return EXIT_USAGE;
    }
    args[0] = (char *)shell;
    for (int i = 0; i < argc; i++)
        args[i + 1] = argv[i];
    args[argc + 1] = NULL;
    mark_prompt(shell);
    return cmd_run(o, args);
}
