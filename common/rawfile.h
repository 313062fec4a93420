/* rawfile: open, fstat, pread and close of the configuration file for the
 * library's constructor (common/state.c), before anything else of the shim is set up.
 *
 * Promise: on x86-64 each is the system call itself (libc's wrappers lie on pages
 * a small program never touches, and faulting them in costs more than the call);
 * elsewhere libc's, with close through __close. None goes through the shim's
 * hooks, so reading the file never wakes the hook machinery. Results and errno
 * as the libc functions give them.
 */
#ifndef DIALSHIM_RAWFILE_H
#define DIALSHIM_RAWFILE_H

#include <sys/stat.h>
#include <sys/types.h>

int rawfile_open(const char *path, int flags);
int rawfile_stat(int fd, struct stat *st);
ssize_t rawfile_pread(int fd, void *buf, size_t n, off_t off);
void rawfile_close(int fd);

#endif
