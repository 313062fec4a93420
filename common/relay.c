/* relay: the table of SOCKS5 UDP associations, per descriptor number, and each
 * association's lifetime. See relay.h; the connected peer is relay_peer.c's, the
 * datagrams themselves are relayio.c's. */
#include "common/relay.h"

#include "common/addr.h"
#include "common/fdtab.h"
#include "common/log.h"
#include "common/ownfd.h"
#include "common/reentry.h"
#include "common/relay_int.h"
#include "common/state.h"
#include "common/sys.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct assoc **slots;
static size_t n_slots;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* ---------------------------------------------------------------- the table */

static void atfork_prepare(void)
{
    pthread_mutex_lock(&table_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&table_lock);
}

/* The child has one thread: the locks some other thread held are reborn free. */
static void atfork_child(void)
{
    pthread_mutex_init(&table_lock, NULL);
    for (size_t i = 0; i < n_slots; i++)
        if (slots[i]) {
            pthread_mutex_init(&slots[i]->lock, NULL);
            pthread_mutex_init(&slots[i]->open_lock, NULL);
        }
}

static void register_fork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void adopt_orphans(void);

struct assoc *relay_get(int fd)
{
    struct assoc *a = NULL;

    adopt_orphans();
    pthread_mutex_lock(&table_lock);
    if (fd >= 0 && (size_t)fd < n_slots && (a = slots[fd]))
        a->refs++;
    pthread_mutex_unlock(&table_lock);
    return a;
}

/* A control connection is closed only while its number still names it: the
 * program may have closed it behind our back and given the number to a file. */
static void close_ctls(struct relay_chain *ch)
{
    for (int i = 0; i < ch->n; i++)
        if (ch->ctl[i] >= 0)
            ownfd_close(&ch->ctl[i]);
}

static void destroy(struct assoc *a)
{
    close_ctls(&a->c);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->open_lock);
    free(a);
}

struct relay_chain *relay_chain_new(void)
{
    struct assoc *a = calloc(1, sizeof(*a));

    if (!a)
        return NULL;
    for (int i = 0; i < RELAY_MAX_HOPS; i++)
        a->c.ctl[i] = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->open_lock, NULL);
    return &a->c;
}

void relay_chain_reset(struct relay_chain *ch)
{
    close_ctls(ch);
    ch->n = 0;
    for (int i = 0; i < RELAY_MAX_HOPS; i++) {
        ch->ctl[i] = -1;
        ch->hop[i][0] = '\0';
    }
    memset(&ch->relay, 0, sizeof(ch->relay));
    ch->relay_len = 0;
    ch->prefix_len = 0;
}

/* The association whose chain CH is (the first member). */
static struct assoc *of_chain(struct relay_chain *ch)
{
    return (struct assoc *)ch;
}

void relay_chain_free(struct relay_chain *ch)
{
    destroy(of_chain(ch));
}

void relay_put(struct assoc *a)
{
    bool last;

    pthread_mutex_lock(&table_lock);
    last = --a->refs == 0;
    pthread_mutex_unlock(&table_lock);
    if (last)
        destroy(a);
}

/* Room in the table for FD; under table_lock. Returns 0 or ENOMEM. */
static int grow(int fd)
{
    size_t n = n_slots ? n_slots : 64;
    struct assoc **p;

    if ((size_t)fd < n_slots)
        return 0;
    while (n <= (size_t)fd)
        n *= 2;
    p = realloc(slots, n * sizeof(*p));
    if (!p)
        return ENOMEM;
    memset(p + n_slots, 0, (n - n_slots) * sizeof(*p));
    slots = p;
    n_slots = n;
    return 0;
}

/* Returns 0 with two references taken (the table's and the caller's), EEXIST when FD got one
 * meanwhile (another thread), or ENOMEM. */
static int insert(int fd, struct assoc *a)
{
    int err;

    adopt_orphans();
    pthread_mutex_lock(&table_lock);
    err = grow(fd);
    if (!err && slots[fd])
        err = EEXIST;
    if (!err) {
        a->refs = 2;
        a->fds = 1;
        slots[fd] = a;
    }
    pthread_mutex_unlock(&table_lock);
    return err;
}

/* FD's slot, emptied; *LAST tells whether no other descriptor holds the association
 * (the caller puts the slot's reference). */
static struct assoc *take(int fd, bool *last)
{
    struct assoc *a = NULL;

    adopt_orphans();
    pthread_mutex_lock(&table_lock);
    if (fd >= 0 && (size_t)fd < n_slots) {
        a = slots[fd];
        slots[fd] = NULL;
    }
    *last = a && --a->fds == 0;
    pthread_mutex_unlock(&table_lock);
    return a;
}

/* ---------------------------------------------------------------- nested calls
 *
 * A call from inside another call of the same thread (a signal handler, see
 * common/reentry.h) may not take table_lock or an association's lock, nor free:
 * the call it interrupted may hold them. A descriptor whose association must go
 * (closed, reconnected) is queued here, lock-free, and its slot emptied by the
 * next call that is not nested, before any slot can be filled again. */
#define ORPHANS 16
static int orphans[ORPHANS]; /* fd + 1 of a slot to empty; 0: free */
static int n_orphans;

static bool orphan(int fd)
{
    for (int i = 0; i < ORPHANS; i++) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&orphans[i], &expected, fd + 1, false, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
            __atomic_add_fetch(&n_orphans, 1, __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}

static void forget(int fd);

/* Not nested: empty the queued slots. One load when there are none. */
static void adopt_orphans(void)
{
    if (!__atomic_load_n(&n_orphans, __ATOMIC_ACQUIRE) || reentry_nested())
        return;
    for (int i = 0; i < ORPHANS; i++) {
        int v = __atomic_exchange_n(&orphans[i], 0, __ATOMIC_ACQUIRE);
        if (v) {
            __atomic_sub_fetch(&n_orphans, 1, __ATOMIC_RELEASE);
            forget(v - 1);
        }
    }
}

void relay_let_go(int fd)
{
    fdtab_and(fd, ~(FD_ASSOC | FD_APPLIED));
    if (!orphan(fd))
        log_warn("%s[%d] udp fd %d: its association ended inside a signal handler with %d "
                 "others pending; its control connection stays open until the process ends",
                 state.prog, (int)getpid(), fd, ORPHANS);
}

int relay_nested_refusal(const char *prog, int fd, const char *what, int err)
{
    log_warn("%s[%d] udp fd %d: %s inside another call of the thread (a signal handler) is "
             "refused: the association's locks may be held by the call it interrupted",
             prog, (int)getpid(), fd, what);
    errno = err;
    return -1;
}

/* ---------------------------------------------------------------- associations */

/* The control connection's far end is named from the configuration: asking the
 * kernel (getpeername) for a log line is a system call a sandbox may kill the
 * program for. */
static void log_created(const struct assoc *a, const struct sockaddr_storage *local)
{
    char relay[ADDR_STRLEN], lo[ADDR_STRLEN];
    const struct conf *c = state.conf;
    int hop = c ? conf_dialer_index(c, a->c.hop[0]) : -1;

    if (!log_enabled(LOG_LVL_INFO))
        return;
    log_info("%s[%d] udp association via %s created (fd %d, %d proxies): relay %s, from %s, "
             "control -> %s:%u",
             state.prog, (int)getpid(), a->c.name, a->fd, a->c.n,
             addr_format((struct sockaddr *)&a->c.relay, relay, sizeof(relay)),
             addr_format((const struct sockaddr *)local, lo, sizeof(lo)),
             hop >= 0 ? c->dialers[hop].server.host : "?",
             hop >= 0 ? (unsigned)c->dialers[hop].server.port : 0u);
}

int relay_add(int fd, struct relay_chain *ch, const struct sockaddr_storage *local)
{
    struct assoc *a = of_chain(ch);
    int err;

    a->fd = fd;
    __atomic_store_n(&a->opened, 1, __ATOMIC_RELEASE);
    pthread_once(&fork_once, register_fork);
    if ((err = insert(fd, a)))
        return err;
    fdtab_or(fd, FD_ASSOC);
    log_created(a, local);
    relay_put(a);
    return 0;
}

int relay_attach(int fd, int dialer, int family, const char *name)
{
    struct relay_chain *ch = relay_chain_new();
    int err;

    if (!ch)
        return ENOMEM;
    ch->dialer = dialer;
    ch->family = family;
    snprintf(ch->name, sizeof(ch->name), "%s", name);
    of_chain(ch)->fd = fd;
    pthread_once(&fork_once, register_fork);
    if ((err = insert(fd, of_chain(ch)))) {
        relay_chain_free(ch);
        return err;
    }
    fdtab_or(fd, FD_ASSOC);
    relay_put(of_chain(ch));
    return 0;
}

int relay_state(int fd, bool *opened)
{
    struct assoc *a = reentry_nested() ? NULL : relay_get(fd);
    int d = a ? a->c.dialer : -1;

    *opened = a && relay_is_open(a);
    if (a)
        relay_put(a);
    return d;
}

int relay_dialer(int fd)
{
    bool opened;
    int d = relay_state(fd, &opened);

    return opened ? d : -1;
}

int relay_waiting(int fd)
{
    struct assoc *a = reentry_nested() ? NULL : relay_get(fd);
    int d = -1;

    if (!a)
        return -1;
    if (!relay_is_open(a)) { /* once open, the common case, it stays so: no lock */
        pthread_mutex_lock(&a->lock);
        if (a->connected)
            d = a->c.dialer;
        pthread_mutex_unlock(&a->lock);
    }
    relay_put(a);
    return d;
}

int relay_open_begin(int fd, int dialer, struct relay_chain **ch)
{
    struct assoc *a = reentry_nested() ? NULL : relay_get(fd);

    if (!a || a->c.dialer != dialer) {
        if (a)
            relay_put(a);
        return ENOENT;
    }
    pthread_mutex_lock(&a->open_lock);
    if (relay_is_open(a)) { /* another thread's first datagram won */
        pthread_mutex_unlock(&a->open_lock);
        relay_put(a);
        return EEXIST;
    }
    *ch = &a->c;
    return 0;
}

int relay_open_end(int fd, struct relay_chain *ch, int err, const struct sockaddr_storage *local)
{
    struct assoc *a = of_chain(ch);
    bool connected;

    if (err) {
        relay_chain_reset(ch); /* the next datagram tries again, from scratch */
    } else {
        __atomic_store_n(&a->opened, 1, __ATOMIC_RELEASE);
        log_created(a, local);
        pthread_mutex_lock(&a->lock);
        connected = a->connected;
        pthread_mutex_unlock(&a->lock);
        /* Until now the socket was held connected away from any relay: it heard
         * nothing. Now it hears the relay alone. */
        if (connected && sys.connect(fd, (struct sockaddr *)&a->c.relay, a->c.relay_len) < 0) {
            err = errno;
            __atomic_store_n(&a->dead, err, __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&a->open_lock);
    relay_put(a);
    return err;
}

/* ---------------------------------------------------------------- descriptors */

void relay_close(int fd)
{
    if (reentry_nested())
        relay_let_go(fd);
    else
        forget(fd);
}

static void forget(int fd)
{
    bool last;
    struct assoc *a = take(fd, &last);

    if (!a)
        return;
    if (last && relay_is_open(a))
        log_info("%s[%d] udp association via %s closed (fd %d): %llu datagrams out, %llu in, "
                 "%llu dropped",
                 state.prog, (int)getpid(), a->c.name, fd,
                 __atomic_load_n(&a->out, __ATOMIC_RELAXED),
                 __atomic_load_n(&a->in, __ATOMIC_RELAXED),
                 __atomic_load_n(&a->dropped, __ATOMIC_RELAXED));
    relay_put(a);
}

int relay_reserve(int fd)
{
    int err;

    if (fd < 0)
        return EBADF;
    if (reentry_nested())
        return relay_nested_refusal(state.prog, fd, "dup2/dup3 of an associated socket", EBUSY),
               EBUSY;
    pthread_mutex_lock(&table_lock);
    err = grow(fd);
    pthread_mutex_unlock(&table_lock);
    return err;
}

int relay_dup(int oldfd, int newfd)
{
    struct assoc *a = NULL;
    int err = 0;

    if (oldfd < 0 || newfd < 0 || oldfd == newfd)
        return 0;
    if (reentry_nested())
        return relay_nested_refusal(state.prog, oldfd, "a copy of an associated socket", EMFILE),
               EMFILE;
    relay_close(newfd); /* whatever the number held before is gone */
    pthread_mutex_lock(&table_lock);
    if ((size_t)oldfd < n_slots && (a = slots[oldfd]) && !(err = grow(newfd))) {
        slots[newfd] = a;
        a->refs++;
        a->fds++;
    }
    pthread_mutex_unlock(&table_lock);
    return err;
}
