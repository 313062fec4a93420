/* dialshim run: the command under the shim (preloaded), or under the seccomp
 * supervisor for static and Go programs (dialshim(1)). */
#include "common/dialer/dialer.h"
#include "common/engine.h"
#include "common/state.h"
#include "tools/elf.h"
#include "tools/tool.h"
#include "tools/supervise.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>

/* The shim beside this program (build/), or, installed, in the library directory
 * of the tree this program lies in (DIALSHIM_LIBDIR_REL, relative to bin/: a
 * package unpacked under another root finds its own library), then where `make
 * install` put it. */
int shim_path(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n > 0) {
        exe[n] = '\0';
        char found[PATH_MAX];
#ifdef DIALSHIM_LIBDIR_REL
        snprintf(out, cap, "%s/%s/libdialshim.so", dirname(exe), DIALSHIM_LIBDIR_REL);
#else
        snprintf(out, cap, "%s/libdialshim.so", dirname(exe));
#endif
        /* without the "bin/.." the program would see in LD_PRELOAD */
        if (access(out, R_OK) == 0 && realpath(out, found) && strlen(found) < cap)
            snprintf(out, cap, "%s", found);
        if (access(out, R_OK) == 0)
            return 0;
    }
#ifdef DIALSHIM_LIBDIR
    snprintf(out, cap, "%s/libdialshim.so", DIALSHIM_LIBDIR);
    return access(out, R_OK) == 0 ? 0 : -1;
#else
    return -1;
#endif
}

/* execvp's search, to inspect the file that will run. */
static bool which(const char *cmd, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    char dirs[4096];

    if (strchr(cmd, '/')) {
        snprintf(out, cap, "%s", cmd);
        return access(out, X_OK) == 0;
    }
    snprintf(dirs, sizeof(dirs), "%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", *d ? d : ".", cmd);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* Look inside the file for what makes LD_PRELOAD useless. The file is anyone's:
 * only a regular file is opened (never waiting on a FIFO), and tools/elf.c reads
 * it with every offset checked. */
static void warn_uninterceptable(const char *file)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct elf_facts facts;
    unsigned char *m;
    int elf;

    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (unsigned long long)st.st_size > SIZE_MAX) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (st.st_mode & (S_ISUID | S_ISGID))
        fprintf(stderr, "dialshim: warning: %s is set%s: the loader ignores LD_PRELOAD for it\n",
                file, st.st_mode & S_ISUID ? "uid" : "gid");
    if (fgetxattr(fd, "security.capability", NULL, 0) > 0)
        fprintf(stderr,
                "dialshim: warning: %s has file capabilities: the loader ignores LD_PRELOAD "
                "for it\n",
                file);
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    elf = elf_inspect(m, (size_t)st.st_size, &facts);
    munmap(m, (size_t)st.st_size);
    if (elf < 0)
        return; /* a script, another class, or headers that make no sense */
    if (!facts.interp)
        fprintf(stderr, "dialshim: warning: %s is statically linked: LD_PRELOAD cannot reach it\n",
                file);
    else if (facts.go)
        fprintf(stderr,
                "dialshim: warning: %s is a Go program: it makes system calls directly, so "
                "only cgo lookups (GODEBUG=netdns=cgo) can pass through the shim\n",
                file);
}

int cmd_run(const struct opts *o, char **argv)
{
    char path[PATH_MAX], lib[PATH_MAX], file[PATH_MAX], preload[2 * PATH_MAX];
    const char *old = getenv("LD_PRELOAD");
    struct conf *c;

    if (!argv[0]) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (find_config(o, path, sizeof(path)) < 0)
        return EXIT_USAGE;
    c = load_checked(path);
    if (!c)
        return EXIT_USAGE;
    if (o->app && conf_app_index(c, o->app) < 0) {
        fprintf(stderr, "dialshim: -p %s: no [app %s] in %s\n", o->app, o->app, path);
        conf_free(c);
        return EXIT_USAGE;
    }
    conf_free(c);
    if (shim_path(lib, sizeof(lib)) < 0) {
        fprintf(stderr, "dialshim: cannot find libdialshim.so (looked at %s)\n", lib);
        return EXIT_USAGE;
    }
    if (old && *old && !strstr(old, lib))
        snprintf(preload, sizeof(preload), "%s:%s", lib, old);
    else
        snprintf(preload, sizeof(preload), "%s", old && *old ? old : lib);
    setenv("LD_PRELOAD", preload, 1);
    setenv("DIALSHIM_CONFIG", path, 1);
    if (o->app)
        setenv("DIALSHIM_APP", o->app, 1);
    if (o->level)
        setenv("DIALSHIM_LOG", o->level, 1);
    if (!which(argv[0], file, sizeof(file))) {
        fprintf(stderr, "dialshim: %s: command not found\n", argv[0]);
        return 127;
    }
    {
        struct supervise_run r = {path, o->app, o->level, file, argv, o->supervise};
        int st = supervise_maybe(&r);
        if (st != SUPERVISE_PRELOAD)
            return st;
    }
    warn_uninterceptable(file);
    execvp(argv[0], argv);
    fprintf(stderr, "dialshim: %s: %s\n", argv[0], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
