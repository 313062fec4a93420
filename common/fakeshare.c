#include "common/fakeshare.h"

#include "common/log.h"
#include "common/ownfd.h"
#include "common/statedir.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct conf *conf;
static bool failed;
static uint32_t key;
static int fds[2] = {-1, -1}; /* IPv4, IPv6 */
static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;

static int index_of(int family)
{
    return family == AF_INET6 ? 1 : 0;
}

/* FNV-1a over the configuration's path and ranges: another file, or the same
 * file with other ranges, is another journal. */
static uint32_t hash_of(const struct conf *c)
{
    uint32_t h = 2166136261u;
    const uint8_t *parts[] = {(const uint8_t *)c->path, (const uint8_t *)&c->fake_ip_range,
                              (const uint8_t *)&c->fake_ip6_range};
    size_t lens[] = {strlen(c->path), sizeof(c->fake_ip_range), sizeof(c->fake_ip6_range)};

    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < lens[p]; i++)
            h = (h ^ parts[p][i]) * 16777619u;
    return h;
}

static void file_name(int family, char *out, size_t cap)
{
    snprintf(out, cap, "fake%c-%08x", family == AF_INET6 ? '6' : '4', key);
}

bool fakeshare_on(void)
{
    return conf && !failed;
}

static int open_journal(int family)
{
    int *fd = &fds[index_of(family)], dir, err = 0;
    char name[32];
    struct stat st;

    if (*fd >= 0 && ownfd_check(fd))
        return 0;
    dir = statedir_open(conf);
    if (dir < 0)
        return -dir;
    file_name(family, name, sizeof(name));
    *fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd < 0)
        err = errno;
    else if (fstat(*fd, &st) < 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode) ||
             (st.st_mode & 077))
        err = EPERM; /* only a file of ours that nobody else may read */
    sys.close(dir);
    if (err) {
        if (*fd >= 0)
            sys.close(*fd);
        *fd = -1;
        return err;
    }
    ownfd_adopt(fd);
    return 0;
}

void fakeshare_enable(const struct conf *c)
{
    conf = c;
    key = hash_of(c);
    failed = false;
    /* Opened now, at the first hook, not on first need: a sandbox may forbid
     * opening files later (a browser's zygote forks its network process after
     * sandboxing), and a child of fork uses the descriptors it inherits. */
    for (int family = AF_INET; family != -1; family = family == AF_INET ? AF_INET6 : -1)
        if (open_journal(family) != 0)
            break; /* fakeshare_lock tries again, and logs, when a name needs it */
}

/* A whole-file POSIX record lock (F_SETLKW): it belongs to the process, not to
 * the open file as flock's does, so a child of fork keeps the descriptor it
 * inherited and still excludes its parent. A sandboxed child (a browser's
 * network process) could not open the file again; and the kernel drops the
 * lock when its process dies, so no crash leaves the journal locked. */
static int lock_file(int fd, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};

    while (sys.fcntl(fd, F_SETLKW, &fl) < 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

int fakeshare_lock(int family, bool exclusive, uint32_t *count)
{
    int *fd = &fds[index_of(family)], err;
    struct stat st;

    if (!fakeshare_on())
        return ENOENT;
    pthread_mutex_lock(&turn);
    err = open_journal(family);
    if (!err)
        err = lock_file(*fd, exclusive ? F_WRLCK : F_RDLCK);
    if (!err && fstat(*fd, &st) < 0) {
        err = errno;
        lock_file(*fd, F_UNLCK);
    }
    if (err) {
        pthread_mutex_unlock(&turn);
        if (!failed)
            log_warn("fake ip: the shared table under state_dir cannot be used (%s): names "
                     "that need a new fake address are refused",
                     strerror(err));
        failed = true;
        return err;
    }
    *count = (uint32_t)((uint64_t)st.st_size / FAKESHARE_REC);
    return 0;
}

int fakeshare_peek(int family, uint32_t *count)
{
    int *fd = &fds[index_of(family)], err = 0;
    struct stat st;

    if (!fakeshare_on())
        return ENOENT;
    if (*fd < 0) {
        pthread_mutex_lock(&turn);
        err = open_journal(family);
        pthread_mutex_unlock(&turn);
    }
    if (!err && fstat(*fd, &st) < 0)
        err = errno;
    if (!err)
        *count = (uint32_t)((uint64_t)st.st_size / FAKESHARE_REC);
    return err;
}

void fakeshare_unlock(int family)
{
    lock_file(fds[index_of(family)], F_UNLCK);
    pthread_mutex_unlock(&turn);
}

int fakeshare_read(int family, uint32_t i, char *name)
{
    uint8_t rec[FAKESHARE_REC];
    ssize_t n = pread(fds[index_of(family)], rec, sizeof(rec), (off_t)i * FAKESHARE_REC);

    if (n != (ssize_t)sizeof(rec) || rec[0] == 0 || rec[0] >= FAKESHARE_REC - 1)
        return EINVAL;
    memcpy(name, rec + 1, rec[0]);
    name[rec[0]] = '\0';
    return strlen(name) == rec[0] ? 0 : EINVAL;
}

int fakeshare_write(int family, uint32_t i, const char *name)
{
    uint8_t rec[FAKESHARE_REC] = {0};
    size_t len = strlen(name);
    ssize_t n;

    if (len == 0 || len >= FAKESHARE_REC - 1)
        return EINVAL;
    rec[0] = (uint8_t)len;
    memcpy(rec + 1, name, len);
    n = pwrite(fds[index_of(family)], rec, sizeof(rec), (off_t)i * FAKESHARE_REC);
    return n == (ssize_t)sizeof(rec) ? 0 : n < 0 ? errno : EIO;
}

void fakeshare_describe(const struct conf *c, char *out, size_t cap)
{
    char dir[CONF_STATE_DIR_MAX];
    const char *why = NULL;

    if (statedir_path(c, dir, sizeof(dir), &why) != 0)
        snprintf(out, cap,
                 "fake addresses: each process has its own table (no state_dir: %s): a name "
                 "resolved in one process is unknown to the others",
                 why ? why : "none");
    else
        snprintf(out, cap,
                 "fake addresses: one table for every process of this user and configuration, "
                 "in %s/fake4-%08x and fake6-%08x (addresses are not reused while it lives)",
                 dir, hash_of(c), hash_of(c));
}

void fakeshare_atfork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

    memcpy(&turn, &fresh, sizeof(turn));
    /* The descriptors stay: the record locks are per process (lock_file). */
}
