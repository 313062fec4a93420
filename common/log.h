/* log: one line per decision or problem, to stderr, syslog or a file (dialshim.ini(5) log_file).
 *
 * Promise: never writes to fd 1; each line is one write(2) of at most 1 KiB, so
 * lines from threads and processes sharing the file never interleave; allocates
 * nothing; safe to call from any thread and after fork. Lines start "dialshim: ".
 * A log file is kept at a high descriptor number and recognised by device and
 * inode before each line (common/ownfd.h): a program that closes all its
 * descriptors and opens files never gets a line in its files; the log file is
 * opened again instead.
 * With log_format = json (log_set_format) every line is instead one JSON object
 * (common/json.h escapes its strings): log_msg's text as {"level":...,"msg":...},
 * log_kv's fields as members; the same one write, at most 1 KiB, no prefix. The
 * JSON branch is a function of its own, so text lines cost the stack they always did.
 * Callers never pass secrets.
 */
#ifndef DIALSHIM_LOG_H
#define DIALSHIM_LOG_H

#include "conf/conf.h"

/* Set level and destination; DEST is "stderr", "syslog" or a path. Safe to call
 * again (the previous file is closed). Returns 0 or an errno (the file could not
 * be opened: logging then goes to stderr). */
int log_open(enum log_level level, const char *dest);

/* text or json; set after the configuration is loaded (text until then). */
void log_set_format(enum log_format f);
extern enum log_format log_format_now;

/* One member of a structured line: KEY and a string (skipped when NULL), an
 * integer or a number of milliseconds. */
struct log_kv {
    const char *key;
    char kind; /* 's', 'i', 'm' */
    const char *str;
    long num;
    double ms;
};
#define LOG_KV_STR(k, v)                                                                           \
    {                                                                                              \
        (k), 's', (v), 0, 0                                                                        \
    }
#define LOG_KV_INT(k, v)                                                                           \
    {                                                                                              \
        (k), 'i', NULL, (long)(v), 0                                                               \
    }
#define LOG_KV_MS(k, v)                                                                            \
    {                                                                                              \
        (k), 'm', NULL, 0, (v)                                                                     \
    }

/* The line {"level":"L", KV...} (members that do not fit are left out, the object
 * always closed), when L is enabled. For decision lines under log_format = json. */
void log_kv(enum log_level l, const struct log_kv *kv, int n);

/* The current level, for callers that want to skip work that only feeds a log line. */
extern enum log_level log_level_now;

static inline int log_enabled(enum log_level l)
{
    return l <= log_level_now;
}

void log_msg(enum log_level l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  (log_enabled(LOG_LVL_INFO) ? log_msg(LOG_LVL_INFO, __VA_ARGS__) : (void)0)
#define log_debug(...) (log_enabled(LOG_LVL_DEBUG) ? log_msg(LOG_LVL_DEBUG, __VA_ARGS__) : (void)0)
#define log_trace(...) (log_enabled(LOG_LVL_TRACE) ? log_msg(LOG_LVL_TRACE, __VA_ARGS__) : (void)0)

#endif
