#include "common/watchdog.h"

#include "common/monotime.h"
#include "common/owner.h"
#include "common/ownfd.h"
#include "common/ownthread.h"
#include "common/reentry.h"
#include "common/sys.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#define WATCH_SLOTS 256
/* With nothing due, the thread still looks this often for a while: a dial that
 * arms with a deadline later than that need not wake it (the cost of a wake is a
 * system call in the dialing thread). */
#define WATCH_LOOK_MS 1000
/* No arm for this long: the thread sleeps until the next one wakes it. */
#define WATCH_IDLE_MS 10000
#define WATCH_STACK   (128 * 1024)

/* A slot's life: FREE -> ARMING (its owner writes fd and deadline) -> ARMED ->
 * FREE again at the disarm; or ARMED -> FIRING (the thread shuts the socket down)
 * -> FIRED, or ARMED -> GONE (the number was closed), both FREE at the disarm. */
enum { FREE, ARMING, ARMED, FIRING, FIRED, GONE };

struct slot {
    int state, fd;
    bool copy; /* fd is the shim's own copy (watch_forget), closed at the disarm */
    long long deadline;
};

static struct slot *slots; /* WATCH_SLOTS of them, made with the thread */
static int running;        /* 0 none yet, 1 starting, 2 runs, 3 cannot (fork, no thread) */
static unsigned wake_word; /* the thread's futex: bumped by every wake */
static long long next_look = LLONG_MAX; /* when the thread looks next */
static unsigned arms;                   /* how many arms ever: the thread's "still busy" */
static int n_armed;

static int load(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static bool swap_state(struct slot *s, int from, int to)
{
    return __atomic_compare_exchange_n(&s->state, &from, to, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_RELAXED);
}

static void wake(void)
{
    __atomic_add_fetch(&wake_word, 1, __ATOMIC_SEQ_CST);
    sys.syscall(SYS_futex, &wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Shut down the sockets whose deadline is past; the earliest deadline still to
 * come (LLONG_MAX: none). */
static long long fire_due(long long now)
{
    long long next = LLONG_MAX;

    for (int i = 0; i < WATCH_SLOTS; i++) {
        struct slot *s = &slots[i];
        long long dl;

        if (load(&s->state) != ARMED)
            continue;
        dl = __atomic_load_n(&s->deadline, __ATOMIC_RELAXED);
        if (dl > now) {
            next = dl < next ? dl : next;
            continue;
        }
        if (!swap_state(s, ARMED, FIRING))
            continue;
        /* The slot may have been disarmed and armed again between the two loads:
         * the deadline that counts is the one of the arm it now holds. */
        dl = __atomic_load_n(&s->deadline, __ATOMIC_RELAXED);
        if (dl > now) {
            __atomic_store_n(&s->state, ARMED, __ATOMIC_SEQ_CST);
            next = dl < next ? dl : next;
            continue;
        }
        sys.shutdown(__atomic_load_n(&s->fd, __ATOMIC_RELAXED), SHUT_RDWR);
        __atomic_store_n(&s->state, FIRED, __ATOMIC_SEQ_CST);
    }
    return next;
}

static long long earliest_armed(void)
{
    long long next = LLONG_MAX;

    for (int i = 0; i < WATCH_SLOTS; i++)
        if (load(&slots[i].state) == ARMED) {
            long long dl = __atomic_load_n(&slots[i].deadline, __ATOMIC_RELAXED);
            next = dl < next ? dl : next;
        }
    return next;
}

static void sleep_until(unsigned seen, long long when)
{
    struct timespec ts = {when / 1000, (when % 1000) * 1000000L};

    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, monotime's clock. */
    sys.syscall(SYS_futex, &wake_word, FUTEX_WAIT_BITSET_PRIVATE, seen,
                when == LLONG_MAX ? NULL : &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void *watch_main(void *unused)
{
    unsigned seen_arms = 0;
    long long quiet_since = monotime_ms();

    /* Not named (prctl): a sandbox that allows threads may still kill on it. */
    (void)unused;
    for (;;) {
        unsigned seen = __atomic_load_n(&wake_word, __ATOMIC_SEQ_CST);
        long long now = monotime_ms(), next = fire_due(now);
        unsigned a = __atomic_load_n(&arms, __ATOMIC_RELAXED);

        if (a != seen_arms) {
            seen_arms = a;
            quiet_since = now;
        }
        if (next > now + WATCH_LOOK_MS && now - quiet_since < WATCH_IDLE_MS)
            next = now + WATCH_LOOK_MS;
        __atomic_store_n(&next_look, next, __ATOMIC_SEQ_CST);
        /* An arm that read the old next_look before this store is seen here. */
        if (earliest_armed() < next)
            continue;
        sleep_until(seen, next);
    }
    return NULL;
}

/* Forget everything in a forked child: the thread did not come along. */
static void atfork_child(void)
{
    __atomic_store_n(&running, 3, __ATOMIC_RELAXED);
    __atomic_store_n(&n_armed, 0, __ATOMIC_RELAXED);
    if (slots)
        for (int i = 0; i < WATCH_SLOTS; i++)
            slots[i].state = FREE;
}

static bool start(void)
{
    int expect = 0, err;

    /* One starter; anyone else meanwhile (another thread, a signal handler's
     * connect) bounds its call the old way. */
    if (!__atomic_compare_exchange_n(&running, &expect, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return expect == 2;
    slots = calloc(WATCH_SLOTS, sizeof(*slots));
    err = slots ? own_thread(watch_main, NULL, WATCH_STACK, NULL) : ENOMEM;
    if (!err)
        pthread_atfork(NULL, NULL, atfork_child);
    __atomic_store_n(&running, err ? 3 : 2, __ATOMIC_RELEASE);
    return !err;
}

int watch_arm(int fd, long long deadline)
{
    int r = __atomic_load_n(&running, __ATOMIC_ACQUIRE);

    /* Not made in a signal handler's call (it allocates and makes a thread). */
    if (r != 2 && (r != 0 || reentry_nested() || !start()))
        return -1;
    /* A vfork child has its own descriptor table: the thread would shut down
     * whatever the parent holds under the number. */
    if (owner_foreign())
        return -1;
    for (int i = 0; i < WATCH_SLOTS; i++) {
        struct slot *s = &slots[i];

        if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) != FREE || !swap_state(s, FREE, ARMING))
            continue;
        __atomic_store_n(&s->fd, fd, __ATOMIC_RELAXED);
        __atomic_store_n(&s->deadline, deadline, __ATOMIC_RELAXED);
        __atomic_store_n(&s->state, ARMED, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&n_armed, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&arms, 1, __ATOMIC_RELAXED);
        if (deadline < __atomic_load_n(&next_look, __ATOMIC_SEQ_CST))
            wake();
        return i;
    }
    return -1;
}

bool watch_disarm(int slot)
{
    struct slot *s = &slots[slot];
    int st;

    __atomic_sub_fetch(&n_armed, 1, __ATOMIC_RELAXED);
    /* ARMING again while we tidy up: the thread and watch_forget leave it alone. */
    do {
        while ((st = load(&s->state)) == FIRING)
            sched_yield();
    } while (!swap_state(s, st, ARMING));
    if (s->copy) {
        ownfd_close(&s->fd);
        s->copy = false;
    }
    __atomic_store_n(&s->state, FREE, __ATOMIC_RELEASE);
    return st == FIRED;
}

void watch_forget(int fd, bool still_open)
{
    if (!__atomic_load_n(&n_armed, __ATOMIC_RELAXED) || load(&running) != 2)
        return;
    for (int i = 0; i < WATCH_SLOTS; i++) {
        struct slot *s = &slots[i];
        int copy;

        if (__atomic_load_n(&s->fd, __ATOMIC_RELAXED) != fd)
            continue;
        if (!swap_state(s, ARMED, FIRING)) {
            while (load(&s->state) == FIRING)
                sched_yield(); /* the shutdown is on its way: the number still holds it */
            continue;
        }
        /* The number goes, the socket may stay with the thread blocked on it: the
         * watch moves to a copy of our own. Without one (the number holds
         * something else already, or no copy could be had) the watch ends. */
        copy = still_open ? ownfd_high_copy(fd) : -1;
        if (copy < 0) {
            __atomic_store_n(&s->state, GONE, __ATOMIC_SEQ_CST);
            continue;
        }
        __atomic_store_n(&s->fd, copy, __ATOMIC_RELAXED);
        ownfd_adopt(&s->fd);
        s->copy = true;
        __atomic_store_n(&s->state, ARMED, __ATOMIC_SEQ_CST);
    }
}
