#include "common/rawfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* With the constructor's code and strings at the start of .text (common/state.c
 * says why): these run only there. */
#define STARTUP     __attribute__((section(".text.startup.dialshim")))
#define STARTUP_STR __attribute__((section(".text.startup.dialshim_str")))

/* The file is read by the system calls themselves where we know how to make
 * them (x86-64): libc's wrappers for open, fstat, pread and close lie on pages of
 * libc a small program never touches, and faulting those in costs more than the
 * calls. They are the calls libc would make. None goes through the shim's hooks
 * (close(2) is one), so reading the file from the constructor never wakes the
 * hook machinery. */
#if defined(__x86_64__)
static const char empty[] STARTUP_STR = "";

STARTUP static long raw(long nr, long a, long b, long c, long d)
{
    register long r10 __asm__("r10") = d;
    long ret;

    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

STARTUP int rawfile_open(const char *path, int flags)
{
    return (int)raw(SYS_openat, AT_FDCWD, (long)path, flags, 0);
}

STARTUP int rawfile_stat(int fd, struct stat *st)
{
    return (int)raw(SYS_newfstatat, fd, (long)empty, (long)st, AT_EMPTY_PATH);
}

STARTUP ssize_t rawfile_pread(int fd, void *buf, size_t n, off_t off)
{
    return raw(SYS_pread64, fd, (long)buf, (long)n, (long)off);
}

STARTUP void rawfile_close(int fd)
{
    raw(SYS_close, fd, 0, 0, 0);
}
#else
STARTUP int rawfile_open(const char *path, int flags)
{
    return open(path, flags);
}

STARTUP int rawfile_stat(int fd, struct stat *st)
{
    return fstat(fd, st);
}

STARTUP ssize_t rawfile_pread(int fd, void *buf, size_t n, off_t off)
{
    return pread(fd, buf, n, off);
}

/* __close, glibc's exported alias of close(2), which the shim hooks (close_range
 * too): the constructor must not wake the hook machinery. */
extern int __close(int fd);

STARTUP void rawfile_close(int fd)
{
    __close(fd);
}
#endif
