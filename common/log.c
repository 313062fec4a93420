#include "common/log.h"

#include "common/json.h"
#include "common/ownfd.h"
#include "common/reentry.h"
#include "common/sys.h"
#include "common/nobss.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

enum log_level log_level_now FIRST_DATA = LOG_LVL_WARN;
enum log_format log_format_now FIRST_DATA = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

/* -1: syslog; otherwise the fd lines go to. A file lives at a high number and is
 * recognised before each line (common/ownfd.h): a program that closed it behind
 * our back and opened a file of its own never gets our lines in that file. */
static int log_fd FIRST_DATA = 2;
static char *log_path FIRST_DATA; /* the file, to open it again after such a close */
static int reopening FIRST_DATA;  /* one thread at a time opens it again */

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

void log_set_format(enum log_format f)
{
    log_format_now = f;
}

/* LINE (N bytes, room for one more) to the destination: syslog gets it from SKIP
 * on (without the "dialshim: " the text lines carry, syslog names us), the file
 * or stderr with a newline in one write. */
static void emit(enum log_level l, char *line, int n, int skip)
{
    if (log_fd < 0) {
        if (reentry_nested())
            return; /* syslog takes a lock the interrupted call may hold */
        syslog(syslog_priority(l), "%s", line + skip);
        return;
    }
    line[n++] = '\n';
    if (log_fd > 2 && !ownfd_check(&log_fd))
        reopen();
    /* One write per line: concurrent writers on an O_APPEND file stay whole. */
    if (!sys.write || sys.write(log_fd, line, n) < 0) {
        /* nowhere left to report it (no table: a unit test that never filled it) */
    }
}

/* {"level":"L" and its opening, into LINE; returns the offset. */
static size_t json_open(char *line, size_t cap, enum log_level l)
{
    size_t off = 0;

    memcpy(line, "{\"level\":", 9);
    off = 9;
    json_str(line, cap, 0, &off, level_names[l]);
    return off;
}

/* The bytes left after each member: the closing brace, the newline emit adds, NUL. */
#define JSON_KEEP 3

void log_kv(enum log_level l, const struct log_kv *kv, int n)
{
    char line[1024];
    size_t off;
    int saved = errno;

    if (!log_enabled(l))
        return;
    off = json_open(line, sizeof(line), l);
    for (int i = 0; i < n; i++) {
        char num[40];
        size_t mark = off;
        int w;
        if (kv[i].kind == 's' && !kv[i].str)
            continue;
        if (kv[i].kind == 'i')
            snprintf(num, sizeof(num), "%ld", kv[i].num);
        else if (kv[i].kind == 'm')
            snprintf(num, sizeof(num), "%.3f", kv[i].ms);
        line[off++] = ',';
        if (!json_str(line, sizeof(line), JSON_KEEP + 1, &off, kv[i].key)) {
            off = mark;
            break;
        }
        line[off++] = ':';
        if (kv[i].kind == 's') {
            if (!json_str(line, sizeof(line), JSON_KEEP, &off, kv[i].str))
                off = mark;
            continue;
        }
        w = (int)strlen(num);
        if (off + (size_t)w + JSON_KEEP > sizeof(line)) {
            off = mark;
            continue;
        }
        memcpy(line + off, num, (size_t)w);
        off += (size_t)w;
    }
    line[off++] = '}';
    line[off] = '\0';
    emit(l, line, (int)off, 0);
    errno = saved;
}

/* log_msg under log_format = json: the formatted text as "msg". Out of line, so
 * that text lines do not carry its buffers on the program's stack. */
static __attribute__((noinline)) void msg_json(enum log_level l, const char *fmt, va_list ap)
{
    char text[768];
    struct log_kv kv = LOG_KV_STR("msg", text);

    vsnprintf(text, sizeof(text), fmt, ap);
    log_kv(l, &kv, 1);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
    char line[1024];
    int saved = errno;
    va_list ap;
    int n;

    if (!log_enabled(l))
        return;
    if (log_format_now == LOG_FORMAT_JSON) {
        va_start(ap, fmt);
        msg_json(l, fmt, ap);
        va_end(ap);
        errno = saved;
        return;
    }
    n = snprintf(line, sizeof(line), "dialshim: ");
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = sizeof(line) - 2;
    emit(l, line, n, 10);
    errno = saved;
}
