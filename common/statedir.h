/* statedir: the small per-user directory where what one process learned is kept
 * for the next ones (`[global] state_dir`, dialshim.ini(5)): what `handshake =
 * auto` learned of each proxy, which group members are down.
 *
 * Promise: the directory is `state_dir` when the file sets it, none when it sets it
 * empty, else `$XDG_RUNTIME_DIR/dialshim` (none when that variable is unset, not
 * absolute, or the process is set-user-ID). It is created mode 700 on first need
 * (its parent must exist) and used only when it is a directory owned by this
 * effective user that nobody else may write; a symbolic link is followed only when
 * it belongs to this user or to root. Files are written atomically (a temporary
 * file, then rename) with mode 600 and read only when owned by this user. Nothing
 * here keeps a descriptor open, takes a lock or calls a hooked function; every
 * failure is an errno and the caller goes on without the state.
 */
#ifndef DIALSHIM_STATEDIR_H
#define DIALSHIM_STATEDIR_H

#include "conf/conf.h"

#include <stddef.h>
#include <sys/types.h>

#define STATEDIR_FILE_MAX 65536 /* the largest state file read or written */

/* The directory C names into OUT (CAP bytes): 0, or ENOENT when there is none
 * (the reason in WHY when not NULL: "state_dir is empty", "XDG_RUNTIME_DIR is unset"). */
int statedir_path(const struct conf *c, char *out, size_t cap, const char **why);

/* The directory, created when missing, opened (O_DIRECTORY, close-on-exec) and
 * checked: a descriptor the caller closes with sys.close, or -errno. */
int statedir_open(const struct conf *c);

/* Replace file NAME in the directory by the LEN bytes at BUF, atomically. 0 or errno. */
int statedir_write(const struct conf *c, const char *name, const void *buf, size_t len);

/* Read file NAME (at most CAP - 1 bytes, NUL-terminated) into BUF: the byte count,
 * or -errno (-ENOENT when there is no such file or no directory). */
ssize_t statedir_read(const struct conf *c, const char *name, char *buf, size_t cap);

/* For `explain`: one line saying which directory is used and its state, without
 * creating anything. */
void statedir_describe(const struct conf *c, char *out, size_t cap);

#endif
