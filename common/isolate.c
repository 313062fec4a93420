#include "common/isolate.h"

#include "common/state.h"
#include "common/sys.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The process's start time, for the pid it was read in: a forked child has
 * another pid and another start time. Both words are written before the pid
 * that validates them; a thread racing the first read reads the file itself. */
static long long start_ticks;
static pid_t start_pid;

static long long read_start_ticks(void)
{
    char buf[1024], *p;
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

    if (fd >= 0)
        sys.close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: count from the last ')'.
     * starttime is field 22; field 3 follows the ')'. */
    p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoll(p + 1, NULL, 10) : 0;
}

static long long process_start(pid_t pid)
{
    long long t;

    if (__atomic_load_n(&start_pid, __ATOMIC_ACQUIRE) == pid)
        return __atomic_load_n(&start_ticks, __ATOMIC_RELAXED);
    t = read_start_ticks();
    __atomic_store_n(&start_ticks, t, __ATOMIC_RELAXED);
    __atomic_store_n(&start_pid, pid, __ATOMIC_RELEASE);
    return t;
}

void isolate_credentials(const struct conf_dialer *p, char *user, size_t cap, const char **username,
                         const char **password)
{
    pid_t pid;

    switch (p->isolate) {
    case ISOLATE_PROCESS:
        pid = getpid();
        snprintf(user, cap, "dialshim-%d-%lld", (int)pid, process_start(pid));
        break;
    case ISOLATE_APP:
        snprintf(user, cap, "dialshim-app-%s",
                 state.conf && state.app >= 0 && state.app < state.conf->n_apps
                     ? state.conf->apps[state.app].name
                     : "default");
        break;
    default:
        *username = p->has_auth ? p->username : NULL;
        *password = p->has_auth ? p->password : NULL;
        return;
    }
    *username = user;
    *password = "0";
}
