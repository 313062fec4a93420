#include "common/log.h"

#include "common/reentry.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

enum log_level log_level_now = LOG_LVL_WARN;

/* -1: syslog; otherwise the fd lines go to. */
static int log_fd = 2;

int log_open(enum log_level level, const char *dest)
{
    int old = log_fd, err = 0;

    log_level_now = level;
    if (!dest || !*dest || strcmp(dest, "stderr") == 0) {
        log_fd = 2;
    } else if (strcmp(dest, "syslog") == 0) {
        log_fd = -1;
    } else {
        int fd = open(dest, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0) {
            err = errno;
            log_fd = 2;
        } else {
            log_fd = fd;
        }
    }
    if (old > 2 && old != log_fd && sys.close)
        sys.close(old);
    return err;
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
        /* One write per line: concurrent writers on an O_APPEND file stay whole. */
        if (!sys.write || sys.write(log_fd, line, n) < 0) {
            /* nowhere left to report it (no table: a unit test that never filled it) */
        }
    }
    errno = saved;
}
