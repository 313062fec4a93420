#include "common/fakepin.h"

#include "common/fakeip.h"
#include "common/log.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One pinned descriptor. fd -1: an empty slot. */
struct pin {
    int fd;
    int family;
    uint8_t addr[16];
};

/* Open addressing with linear probing and backward-shift deletion. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin *slot;
static size_t cap, count; /* cap: 0 or a power of two */

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

/* The child has the same descriptors, so the same pins, and a fresh lock. */
static void atfork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&lock, &fresh, sizeof(lock));
}

static void register_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static size_t home(int fd)
{
    return ((uint32_t)fd * 2654435761u) & (cap - 1);
}

/* Under the lock: the index of FD's pin, or cap. */
static size_t find(int fd)
{
    if (!cap)
        return 0;
    for (size_t i = home(fd); slot[i].fd >= 0; i = (i + 1) & (cap - 1))
        if (slot[i].fd == fd)
            return i;
    return cap;
}

static void put(struct pin *tab, size_t n, const struct pin *p)
{
    size_t i = ((uint32_t)p->fd * 2654435761u) & (n - 1);

    while (tab[i].fd >= 0)
        i = (i + 1) & (n - 1);
    tab[i] = *p;
}

/* Under the lock: room for one more at a load of at most one half. NEW is
 * allocated by the caller outside the lock (NCAP entries, or NULL). */
static bool grow(struct pin *fresh, size_t ncap)
{
    if ((count + 1) * 2 <= cap)
        return true;
    if (!fresh || ncap <= cap)
        return false;
    for (size_t i = 0; i < ncap; i++)
        fresh[i].fd = -1;
    for (size_t i = 0; i < cap; i++)
        if (slot[i].fd >= 0)
            put(fresh, ncap, &slot[i]);
    free(slot);
    slot = fresh;
    cap = ncap;
    return true;
}

/* Under the lock: removes index I, keeping every probe run intact; returns the pin. */
static struct pin take_at(size_t i)
{
    struct pin gone = slot[i];
    size_t mask = cap - 1, j = i;

    slot[i].fd = -1;
    for (;;) {
        j = (j + 1) & mask;
        if (slot[j].fd < 0)
            break;
        size_t h = home(slot[j].fd);
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            slot[i] = slot[j];
            slot[j].fd = -1;
            i = j;
        }
    }
    count--;
    return gone;
}

/* Forgets FD's pin, if any; the caller unpins the address outside the lock. */
static bool forget(int fd, struct pin *out)
{
    pthread_mutex_lock(&lock);
    size_t i = find(fd);
    bool had = i < cap;
    if (had)
        *out = take_at(i);
    pthread_mutex_unlock(&lock);
    return had;
}

/* Records P (already pinned): false when there is no memory. */
static bool remember(const struct pin *p)
{
    pthread_once(&once, register_atfork);
    pthread_mutex_lock(&lock);
    size_t ncap = (count + 1) * 2 <= cap ? 0 : (cap ? cap * 2 : 64);
    pthread_mutex_unlock(&lock);
    struct pin *fresh = ncap ? malloc(ncap * sizeof(*fresh)) : NULL;

    pthread_mutex_lock(&lock);
    bool ok = grow(fresh, ncap);
    if (ok) {
        size_t i = find(p->fd);
        if (i < cap)
            take_at(i); /* cannot happen: the caller forgot it first */
        put(slot, cap, p);
        count++;
    }
    bool used = ok && fresh && slot == fresh;
    pthread_mutex_unlock(&lock);
    if (!used)
        free(fresh);
    return ok;
}

static bool pin_of(const struct sockaddr *sa, socklen_t len, struct pin *p)
{
    if (!fakeip_is_fake(sa, len))
        return false;
    p->family = sa->sa_family;
    memset(p->addr, 0, sizeof(p->addr));
    if (sa->sa_family == AF_INET)
        memcpy(p->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    else
        memcpy(p->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    return true;
}

void fakepin_close(int fd)
{
    struct pin p;

    if (forget(fd, &p))
        fakeip_unpin_addr(p.family, p.addr);
}

void fakepin_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct pin p = {.fd = fd};

    fakepin_close(fd); /* a socket connected again leaves its old address */
    if (!pin_of(sa, len, &p) || !fakeip_pin_addr(p.family, p.addr))
        return;
    if (!remember(&p)) {
        fakeip_unpin_addr(p.family, p.addr);
        log_warn("fake ip: fd %d: out of memory to pin its fake address; it stays reserved for "
                 "%d s after its last use only",
                 fd, FAKEIP_QUARANTINE_S);
    }
}

void fakepin_dup(int oldfd, int newfd)
{
    struct pin p = {.fd = -1};

    fakepin_close(newfd);
    pthread_mutex_lock(&lock);
    size_t i = find(oldfd);
    if (i < cap)
        p = slot[i];
    pthread_mutex_unlock(&lock);
    if (p.fd < 0 || !fakeip_pin_addr(p.family, p.addr))
        return;
    p.fd = newfd;
    if (!remember(&p)) {
        fakeip_unpin_addr(p.family, p.addr);
        log_warn("fake ip: fd %d: out of memory to pin its fake address; it stays reserved for "
                 "%d s after its last use only",
                 newfd, FAKEIP_QUARANTINE_S);
    }
}
