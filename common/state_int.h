/* state_int: what the constructor's capture (common/statecap.c) keeps for
 * state_load() (common/state.c). Internal to those two files.
 */
#ifndef DIALSHIM_STATE_INT_H
#define DIALSHIM_STATE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What state_capture() keeps for state_load(): the file's bytes and the
 * environment as they were when the program started. The strings and the text
 * share one arena, back to back, so an ordinary start touches one or two pages of
 * it rather than one per PATH_MAX array. */
#define CAPTURE_INLINE 16384 /* most files fit: no heap touched at start-up */

struct state_capture {
    const char *log, *log_file, *app; /* NULL: not set */
    const char *parent_app;           /* the app passed down by a parent, or NULL */
    char *text; /* in the arena, or the heap for a big file; NULL: unreadable */
    size_t len, used;
    mode_t mode;
    const char *why; /* why the file could not be read, and the errno (0: none) */
    int why_errno;
    char arena[3 * PATH_MAX + CAPTURE_INLINE];
};

extern struct state_capture state_cap;

/* Does TEXT (LEN bytes, a NUL after them) hold a line whose first word starts
 * with "match" and that holds a '/'? Then the constructor reads /proc/self/exe.
 * (tests/unit/test_statecap.c checks it against a plain reading.) */
bool state_wants_exe(const char *text, size_t len);

#endif
