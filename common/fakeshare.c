#include "common/fakeshare.h"

#include "common/fakeslot.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void *map; /* the mapped file, or NULL */
static size_t map_size;
static struct fakeslot_view views[2]; /* IPv4, IPv6 */

/* FNV-1a over the configuration's path and ranges: another file, or the same
 * file with other ranges, is another table. */
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

static void file_name(const struct conf *c, char *out, size_t cap)
{
    snprintf(out, cap, "fakes-v%d-%08x", FAKESLOT_VERSION, hash_of(c));
}

/* The pages every reader may touch (fakeslot_eager), given to a new file FD
 * before anyone maps it; HEAD then says which names are backed. 0 or errno. */
static int back_eager(int fd, struct fakeslot_head *head)
{
    uint64_t off, len;
    int err = 0;

    for (int k = 0; k < 2 && !err; k++) {
        fakeslot_eager(head, k, &off, &len);
        if (len)
            err = posix_fallocate(fd, (off_t)off, (off_t)len);
    }
    return err;
}

/* The file NAME made whole: a temporary file of the final size with its eager
 * pages backed and HEAD written, linked to NAME only if nobody made it first
 * (then theirs is opened). A descriptor, or -errno. */
static int create(int dir, const char *name, const struct fakeslot_head *expect)
{
    struct fakeslot_head head = *expect;
    char tmp[64];
    int fd, err = 0;

    snprintf(tmp, sizeof(tmp), "%s.%d", name, (int)getpid());
    fd = openat(dir, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    errno = 0;
    if (ftruncate(fd, (off_t)head.size) != 0)
        err = errno;
    else if ((err = back_eager(fd, &head)) != 0)
        ;
    else if (pwrite(fd, &head, sizeof(head), 0) != (ssize_t)sizeof(head))
        err = errno ? errno : EIO;
    else if (linkat(dir, tmp, dir, name, 0) != 0)
        err = errno;
    unlinkat(dir, tmp, 0);
    if (err == 0)
        return fd;
    sys.close(fd);
    if (err != EEXIST)
        return -err;
    fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* The file's descriptor in DIR, opened or created, checked: ours, nobody
 * else's, the expected size. A descriptor or -errno. */
static int open_table(const struct conf *c, int dir, const struct fakeslot_head *head)
{
    char name[48];
    struct stat st;
    int fd, err = 0;

    file_name(c, name, sizeof(name));
    fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        fd = create(dir, name, head);
    else if (fd < 0)
        fd = -errno;
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0)
        err = errno;
    else if (st.st_uid != geteuid() || !S_ISREG(st.st_mode) || (st.st_mode & 077))
        err = EPERM; /* only a file of ours that nobody else may read */
    else if ((uint64_t)st.st_size != head->size)
        err = EPROTO; /* another layout: never read */
    if (err) {
        sys.close(fd);
        return -err;
    }
    return fd;
}

/* fakeslot's grow: the file system gives the pages now, or says it cannot
 * (MADV_POPULATE_WRITE fails instead of the SIGBUS a first write would get on
 * a full tmpfs or disk). Where the call is not there (EINVAL: a kernel before
 * 5.14; EPERM, ENOSYS: a sandbox's filter), pages come at first touch, as they
 * would without it. */
static int populate(void *addr, size_t len)
{
    if (madvise(addr, len, MADV_POPULATE_WRITE) == 0)
        return 0;
    return errno == EINVAL || errno == EPERM || errno == ENOSYS ? 0 : errno;
}

int fakeshare_enable(const struct conf *c, const uint8_t base4[4], const uint8_t base6[16],
                     const uint32_t cap[2])
{
    struct fakeslot_head head;
    size_t size = fakeslot_layout(&head, base4, base6, cap);
    int dir = statedir_open(c), fd, err = 0;
    void *p = MAP_FAILED;

    /* A state_dir this process cannot use (another user's, not writable) is no
     * state_dir: the table stays the process's own, as without one. */
    if (dir < 0) {
        log_info("fake ip: state_dir unusable (%s): fake addresses are this process's own",
                 strerror(-dir));
        return -dir;
    }
    fd = open_table(c, dir, &head);
    sys.close(dir);
    if (fd >= 0) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        err = p == MAP_FAILED ? errno : 0;
        sys.close(fd);
    } else {
        err = -fd;
    }
    if (!err && !fakeslot_matches(p, size, &head))
        err = EPROTO;
    if (err) {
        if (p != MAP_FAILED)
            munmap(p, size);
        log_warn("fake ip: the shared table under state_dir cannot be used (%s): fake "
                 "addresses are this process's own",
                 err == EPROTO ? "another version or configuration made it" : strerror(err));
        return err;
    }
    fakeslot_view(p, 0, &views[0]);
    fakeslot_view(p, 1, &views[1]);
    views[0].grow = views[1].grow = populate;
    map_size = size;
    __atomic_store_n(&map, p, __ATOMIC_RELEASE);
    return 0;
}

void fakeshare_disable(void)
{
    void *p = __atomic_exchange_n(&map, NULL, __ATOMIC_ACQ_REL);

    if (p)
        munmap(p, map_size);
}

bool fakeshare_on(void)
{
    return __atomic_load_n(&map, __ATOMIC_ACQUIRE) != NULL;
}

static const struct fakeslot_view *view_of(int family)
{
    if (!fakeshare_on())
        return NULL;
    return &views[family == AF_INET6 ? 1 : 0];
}

int fakeshare_get(int family, const char *key, uint32_t h, bool add, uint32_t *slot, bool *added)
{
    const struct fakeslot_view *v = view_of(family);

    *added = false;
    return v ? fakeslot_get(v, key, h, add, slot, added) : ENOENT;
}

bool fakeshare_name(int family, uint32_t i, char *out, size_t cap)
{
    const struct fakeslot_view *v = view_of(family);

    return v && fakeslot_name(v, i, out, cap);
}

void fakeshare_describe(const struct conf *c, char *out, size_t cap)
{
    char dir[CONF_STATE_DIR_MAX], name[48];
    const char *why = NULL;

    if (statedir_path(c, dir, sizeof(dir), &why) != 0) {
        snprintf(out, cap,
                 "fake addresses: each process has its own table (no state_dir: %s): a name "
                 "resolved in one process is unknown to the others",
                 why ? why : "none");
        return;
    }
    file_name(c, name, sizeof(name));
    snprintf(out, cap,
             "fake addresses: one table for every process of this user and configuration, "
             "in %s/%s (addresses are not reused while it lives)",
             dir, name);
}
