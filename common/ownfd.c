#include "common/ownfd.h"

#include "common/owner.h"
#include "common/reentry.h"
#include "common/sys.h"
#include "common/hotpath.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

struct own {
    int *where;
    dev_t dev;
    ino_t ino;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct own *owns;
static int n_owns, cap_owns;

HOT_PATH int ownfd_count(void)
{
    return __atomic_load_n(&n_owns, __ATOMIC_RELAXED);
}

/* The lowest number ours may take: OWNFD_FLOOR, or half the limit below it. */
static int floor_fd(void)
{
    static int cached;
    struct rlimit rl;
    int f = __atomic_load_n(&cached, __ATOMIC_RELAXED);

    if (f)
        return f;
    f = OWNFD_FLOOR;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur / 2 < (rlim_t)f)
        f = (int)(rl.rlim_cur / 2);
    if (f < 3)
        f = 3;
    __atomic_store_n(&cached, f, __ATOMIC_RELAXED);
    return f;
}

int ownfd_high_copy(int fd)
{
    return sys.fcntl(fd, F_DUPFD_CLOEXEC, floor_fd());
}

static struct own *find(int fd)
{
    for (int i = 0; i < n_owns; i++)
        if (*owns[i].where == fd)
            return &owns[i];
    return NULL;
}

void ownfd_adopt(int *where)
{
    struct stat st;
    int fd = *where, high;

    if (fd < 0 || reentry_nested() || !sys.fcntl)
        return;
    if (fd < floor_fd() && (high = ownfd_high_copy(fd)) >= 0) {
        sys.close(fd);
        fd = high;
    }
    if (fstat(fd, &st) < 0)
        return;
    pthread_mutex_lock(&lock);
    if (n_owns == cap_owns) {
        int cap = cap_owns ? 2 * cap_owns : 8;
        struct own *p = realloc(owns, cap * sizeof(*p));
        if (p) {
            owns = p;
            cap_owns = cap;
        }
    }
    if (n_owns < cap_owns) {
        owns[n_owns] = (struct own){where, st.st_dev, st.st_ino};
        __atomic_store_n(&n_owns, n_owns + 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(where, fd, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lock);
}

void ownfd_release(int *where)
{
    if (!ownfd_count() || reentry_nested())
        return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_owns; i++) {
        if (owns[i].where == where) {
            owns[i] = owns[n_owns - 1];
            __atomic_store_n(&n_owns, n_owns - 1, __ATOMIC_RELAXED);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

/* 1: *WHERE names its file; 0: it does not; -1: *WHERE is not registered. */
static int state_of(const int *where)
{
    struct stat st;
    int same = -1, fd = __atomic_load_n(where, __ATOMIC_RELAXED);

    if (fd < 0 || fstat(fd, &st) < 0)
        return 0;
    if (reentry_nested())
        return 1; /* no lock to be had: the number is open, trust it */
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_owns; i++)
        if (owns[i].where == where)
            same = owns[i].dev == st.st_dev && owns[i].ino == st.st_ino;
    pthread_mutex_unlock(&lock);
    return same;
}

bool ownfd_check(const int *where)
{
    return state_of(where) == 1;
}

void ownfd_close(int *where)
{
    int st = state_of(where);

    if (*where >= 0 && st != 0 && sys.close)
        sys.close(*where); /* ours, or never registered (a failure before adoption) */
    ownfd_release(where);
    *where = -1;
}

HOT_PATH void ownfd_evict(int fd)
{
    struct own *o;
    int moved;

    if (fd < 0 || reentry_nested())
        return;
    pthread_mutex_lock(&lock);
    /* Silently: the log's own file is one of these descriptors (common/log.c),
     * so this module stays below the log and writes nothing. Not in a vfork
     * child: the registry is its parent's, the copy would be the child's. */
    if ((o = find(fd)) && !owner_foreign() && (moved = ownfd_high_copy(fd)) >= 0)
        __atomic_store_n(o->where, moved, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lock);
}

bool ownfd_in_range(unsigned first, unsigned last)
{
    bool in = false;

    if (!ownfd_count() || reentry_nested())
        return false;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_owns && !in; i++) {
        unsigned fd = (unsigned)*owns[i].where;
        in = fd >= first && fd <= last;
    }
    pthread_mutex_unlock(&lock);
    return in;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

int ownfd_close_range(unsigned first, unsigned last, int flags, const int *also, int n_also)
{
    int small[64], *kept = small, cap = 64, n = 0, r = 0;
    unsigned from = first;

    /* without memory for the others' list, ours at least stay open */
    if (n_also > 0 && (kept = malloc((size_t)(64 + n_also) * sizeof(int))))
        cap = 64 + n_also;
    else
        kept = small;
    for (int i = 0; i < n_also && n < cap - 64; i++)
        if ((unsigned)also[i] >= first && (unsigned)also[i] <= last)
            kept[n++] = also[i];
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_owns && n < cap; i++) {
        unsigned fd = (unsigned)*owns[i].where;
        if (fd >= first && fd <= last)
            kept[n++] = (int)fd;
    }
    qsort(kept, n, sizeof(int), cmp_int);
    /* Ours stay open; every stretch between them is closed as asked. The lock is
     * held so that no descriptor of ours moves into a stretch meanwhile. */
    for (int k = 0; k <= n && r == 0; k++) {
        unsigned to = k < n ? (unsigned)kept[k] - 1 : last;
        if (k < n && (unsigned)kept[k] < from)
            continue; /* listed twice */
        if (k < n && (unsigned)kept[k] == from) {
            from++;
            continue;
        }
        if (from <= to)
            r = sys.close_range(from, to, flags);
        if (k < n)
            from = (unsigned)kept[k] + 1;
    }
    pthread_mutex_unlock(&lock);
    if (kept != small)
        free(kept);
    return r;
}
