#include "common/statedir.h"

#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int statedir_path(const struct conf *c, char *out, size_t cap, const char **why)
{
    const char *xdg, *dummy;

    why = why ? why : &dummy;
    if (c->state_dir_set) {
        if (!c->state_dir[0]) {
            *why = "state_dir is empty: nothing is kept";
            return ENOENT;
        }
        snprintf(out, cap, "%s", c->state_dir);
        return 0;
    }
    /* secure_getenv: a set-user-ID program never takes a directory from its caller. */
    xdg = secure_getenv("XDG_RUNTIME_DIR");
    if (!xdg || xdg[0] != '/') {
        *why = "XDG_RUNTIME_DIR is unset (or not absolute) and state_dir is not set";
        return ENOENT;
    }
    if ((size_t)snprintf(out, cap, "%s/dialshim", xdg) >= cap) {
        *why = "XDG_RUNTIME_DIR is too long";
        return ENAMETOOLONG;
    }
    return 0;
}

/* Whether the object FD refers to (or lstat'ed ST) is ours to trust. */
static bool trusted(const struct stat *st)
{
    return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Open PATH as a directory, following a final symbolic link only when it belongs
 * to this user or to root. */
static int open_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;

    if (fd >= 0 || (errno != ELOOP && errno != ENOTDIR))
        return fd;
    if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
        return -1;
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        errno = EPERM;
        return -1;
    }
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int statedir_open(const struct conf *c)
{
    char path[CONF_STATE_DIR_MAX];
    struct stat st;
    int err = statedir_path(c, path, sizeof(path), NULL), fd;

    if (err)
        return -err;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -errno;
    fd = open_dir(path);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !trusted(&st)) {
        sys.close(fd);
        return -EPERM;
    }
    return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = sys.write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int statedir_write(const struct conf *c, const char *name, const void *buf, size_t len)
{
    static atomic_uint seq;
    char tmp[96];
    int dir = statedir_open(c), fd, err;

    if (dir < 0)
        return -dir;
    /* Unique among the processes and threads writing at the same time. */
    snprintf(tmp, sizeof(tmp), ".%s.%d.%u", name, (int)getpid(), atomic_fetch_add(&seq, 1));
    fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        err = errno;
        sys.close(dir);
        return err;
    }
    err = write_all(fd, buf, len);
    if (sys.close(fd) < 0 && !err)
        err = errno;
    if (!err && renameat(dir, tmp, dir, name) < 0)
        err = errno;
    if (err)
        unlinkat(dir, tmp, 0);
    sys.close(dir);
    return err;
}

ssize_t statedir_read(const struct conf *c, const char *name, char *buf, size_t cap)
{
    int dir = statedir_open(c), fd, err = 0;
    struct stat st;
    size_t have = 0;

    if (dir < 0)
        return dir;
    fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    err = fd < 0 ? errno : 0;
    sys.close(dir);
    if (err)
        return -err;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !trusted(&st)) {
        sys.close(fd);
        return -EPERM;
    }
    while (have + 1 < cap) {
        ssize_t r = sys.read(fd, buf + have, cap - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : 0;
            break;
        }
        have += (size_t)r;
    }
    sys.close(fd);
    buf[have] = '\0';
    return err ? -err : (ssize_t)have;
}

void statedir_describe(const struct conf *c, char *out, size_t cap)
{
    char path[CONF_STATE_DIR_MAX];
    const char *why = "";
    struct stat st;

    if (statedir_path(c, path, sizeof(path), &why)) {
        snprintf(out, cap, "state_dir: none (%s)", why);
        return;
    }
    if (stat(path, &st) < 0)
        snprintf(out, cap, "state_dir: %s (created mode 700 on first need)", path);
    else if (!S_ISDIR(st.st_mode))
        snprintf(out, cap, "state_dir: %s is not a directory: nothing is kept", path);
    else if (!trusted(&st))
        snprintf(out, cap,
                 "state_dir: %s is not this user's or others may write it: nothing is kept", path);
    else if (access(path, W_OK | X_OK) < 0)
        snprintf(out, cap, "state_dir: %s is not writable: nothing is kept", path);
    else
        snprintf(out, cap, "state_dir: %s", path);
}
