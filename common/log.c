#include "common/log.h"

#include "common/ownfd.h"
#include "common/reentry.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

enum log_level log_level_now = LOG_LVL_WARN;

/* -1: syslog; otherwise the fd lines go to. A file lives at a high number and is
 * recognised before each line (common/ownfd.h): a program that closed it behind
 * our back and opened a file of its own never gets our lines in that file. */
static int log_fd = 2;
static char *log_path; /* the file, to open it again after such a close */
static int reopening;  /* one thread at a time opens it again */

static int open_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
}

/* Stop using the file: closed only when the number still names it. */
static void drop_file(void)
{
    if (log_fd > 2)
        ownfd_close(&log_fd);
}

int log_open(enum log_level level, const char *dest)
{
    int fd = 2, err = 0;
    char *path = NULL;

    log_level_now = level;
    if (dest && strcmp(dest, "syslog") == 0) {
        fd = -1;
    } else if (dest && *dest && strcmp(dest, "stderr") != 0) {
        fd = open_file(dest);
        if (fd < 0 || !(path = strdup(dest))) {
            err = fd < 0 ? errno : ENOMEM;
            if (fd >= 0 && sys.close)
                sys.close(fd);
            fd = 2;
        }
    }
    drop_file();
    free(log_path);
    log_path = path;
    log_fd = fd;
    if (fd > 2)
        ownfd_adopt(&log_fd);
    return err;
}

/* The number no longer names our file: open it again (or fall back to stderr). */
static void reopen(void)
{
    int fd;

    if (reentry_nested() || __atomic_exchange_n(&reopening, 1, __ATOMIC_ACQUIRE))
        return;
    ownfd_release(&log_fd);
    fd = log_path ? open_file(log_path) : -1;
    log_fd = fd >= 0 ? fd : 2;
    if (fd >= 0)
        ownfd_adopt(&log_fd);
    __atomic_store_n(&reopening, 0, __ATOMIC_RELEASE);
}

static int syslog_priority(enum log_level l)
{
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG};
    return prio[l];
}

void log_msg(enum log_level l, const char *fmt, ...)
{
    char line[1024];
    int saved = errno;
    va_list ap;
    int n;

    if (!log_enabled(l))
        return;
    n = snprintf(line, sizeof(line), "dialshim: ");
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = sizeof(line) - 2;
    if (log_fd < 0) {
        if (reentry_nested())
            return; /* syslog takes a lock the interrupted call may hold */
        syslog(syslog_priority(l), "%s", line + 10);
    } else {
        line[n++] = '\n';
        if (log_fd > 2 && !ownfd_check(&log_fd))
            reopen();
        /* One write per line: concurrent writers on an O_APPEND file stay whole. */
        if (!sys.write || sys.write(log_fd, line, n) < 0) {
            /* nowhere left to report it (no table: a unit test that never filled it) */
        }
    }
    errno = saved;
}
