#include "common/fdtab.h"
#include "common/hotpath.h"
#include "common/nobss.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>

uint32_t *fdtab_words FIRST_DATA;
unsigned long fdtab_len FIRST_DATA;
static int high FIRST_DATA = -1;

/* Cap the reservation: 4 bytes a descriptor, 16 Mi descriptors = 64 MiB of
 * address space, never of memory (MAP_NORESERVE, untouched pages cost nothing). */
#define FDTAB_MAX (1ul << 24)

int fdtab_init(void)
{
    struct rlimit rl;
    unsigned long n = 1ul << 16;
    void *p;

    if (fdtab_words)
        return 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max > n)
        n = rl.rlim_max;
    if (n > FDTAB_MAX)
        n = FDTAB_MAX;
    p = mmap(NULL, n * sizeof(uint32_t), PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    fdtab_len = n;
    __atomic_store_n(&fdtab_words, p, __ATOMIC_RELEASE);
    return 0;
}

HOT_PATH static uint32_t *slot(int fd)
{
    uint32_t *t = __atomic_load_n(&fdtab_words, __ATOMIC_ACQUIRE);

    if (!t || fd < 0 || (unsigned long)fd >= fdtab_len)
        return NULL;
    return &t[fd];
}

/* A non-zero word at FD: the table's scans must reach it. */
HOT_PATH static void raise_high(int fd)
{
    int h = __atomic_load_n(&high, __ATOMIC_RELAXED);

    while (fd > h &&
           !__atomic_compare_exchange_n(&high, &h, fd, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

HOT_PATH void fdtab_set(int fd, uint32_t v)
{
    uint32_t *w = slot(fd);

    if (!w)
        return;
    __atomic_store_n(w, v, __ATOMIC_RELAXED);
    if (v)
        raise_high(fd);
}

HOT_PATH uint32_t fdtab_or(int fd, uint32_t bits)
{
    uint32_t *w = slot(fd);

    if (!w)
        return FD_UNKNOWN;
    if (bits)
        raise_high(fd);
    return __atomic_fetch_or(w, bits, __ATOMIC_RELAXED);
}

HOT_PATH uint32_t fdtab_and(int fd, uint32_t mask)
{
    uint32_t *w = slot(fd);

    return w ? __atomic_fetch_and(w, mask, __ATOMIC_RELAXED) : FD_UNKNOWN;
}

HOT_PATH uint32_t fdtab_update(int fd, uint32_t clear, uint32_t set)
{
    uint32_t *w = slot(fd), old;

    if (!w)
        return FD_UNKNOWN;
    old = __atomic_load_n(w, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(w, &old, (old & ~clear) | set, true, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
        ;
    if (set)
        raise_high(fd);
    return old;
}

int fdtab_high(void)
{
    return __atomic_load_n(&high, __ATOMIC_RELAXED);
}
