#include "common/driver.h"
#include "common/ownthread.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

/* Worker threads run the whole blocking dial; c-ares and the hops need more than
 * a small stack (common/bigstack.h's 64 KiB is what one deep call takes). */
#define DRIVER_STACK (256 * 1024)

struct job {
    void (*fn)(void *);
    void *arg;
    int key;
    struct job *next;
};

/* How many threads run jobs of one key: a few keys at a time, a short list. */
struct running {
    int key, n;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static int threads, idle;
static struct running keys[DRIVER_MAX];
static int n_keys;

static struct running *running_of(int key)
{
    for (int i = 0; i < n_keys; i++)
        if (keys[i].key == key)
            return &keys[i];
    return NULL;
}

/* A job of KEY may start now: its key has fewer than DRIVER_KEY_MAX threads. */
static bool may_run(int key)
{
    struct running *k = running_of(key);

    return !k || k->n < DRIVER_KEY_MAX;
}

static void key_add(int key, int d)
{
    struct running *k = running_of(key);

    if (!k && d > 0 && n_keys < DRIVER_MAX) {
        k = &keys[n_keys++];
        *k = (struct running){key, 0};
    }
    if (!k)
        return;
    k->n += d;
    if (k->n <= 0)
        *k = keys[--n_keys];
}

/* The first queued job that may run (FIFO among those), unlinked; NULL: none. */
static struct job *take(void)
{
    struct job *prev = NULL;

    for (struct job *j = head; j; prev = j, j = j->next) {
        if (!may_run(j->key))
            continue;
        if (prev)
            prev->next = j->next;
        else
            head = j->next;
        if (tail == j)
            tail = prev;
        key_add(j->key, 1);
        return j;
    }
    return NULL;
}

/* Waits for a job that may run; NULL after DRIVER_IDLE_S seconds without one. */
static struct job *next_job(void)
{
    struct timespec until;
    struct job *j;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += DRIVER_IDLE_S;
    while (!(j = take())) {
        idle++;
        int r = pthread_cond_timedwait(&cv, &mu, &until);
        idle--;
        if (r == ETIMEDOUT && !(j = take()))
            return NULL;
        if (j)
            break;
    }
    return j;
}

static void *worker(void *unused)
{
    (void)unused;
    prctl(PR_SET_NAME, "dialshim", 0, 0, 0);
    pthread_mutex_lock(&mu);
    for (;;) {
        struct job *j = next_job();
        if (!j)
            break;
        pthread_mutex_unlock(&mu);
        j->fn(j->arg);
        pthread_mutex_lock(&mu);
        key_add(j->key, -1);
        free(j);
        if (head && idle)
            pthread_cond_broadcast(&cv); /* a job held back by its key may run now */
    }
    threads--;
    pthread_mutex_unlock(&mu);
    return NULL;
}

/* A new worker (common/ownthread.h: the program's handlers never run on it).
 * Called locked. */
static int spawn(void)
{
    int err = own_thread(worker, NULL, DRIVER_STACK, NULL);

    if (!err)
        threads++;
    return err;
}

int driver_submit(void (*fn)(void *), void *arg, int key)
{
    struct job *j = malloc(sizeof(*j));
    int err = 0;

    if (!j)
        return ENOMEM;
    *j = (struct job){.fn = fn, .arg = arg, .key = key};
    pthread_mutex_lock(&mu);
    /* One more thread unless an idle one will take it or its key has its share
     * (it waits for one of the key's own); with none at all and none to be
     * had, the dial cannot run: refused, not queued forever. */
    if (idle == 0 && threads < DRIVER_MAX && may_run(key) && (err = spawn()) && threads == 0) {
        pthread_mutex_unlock(&mu);
        free(j);
        return err;
    }
    if (tail)
        tail->next = j;
    else
        head = j;
    tail = j;
    pthread_cond_broadcast(&cv); /* the first idle thread that can take it does */
    pthread_mutex_unlock(&mu);
    return 0;
}

int driver_threads(void)
{
    pthread_mutex_lock(&mu);
    int n = threads;
    pthread_mutex_unlock(&mu);
    return n;
}

void driver_atfork_prepare(void)
{
    pthread_mutex_lock(&mu);
}

void driver_atfork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

/* The child has no workers, and the queued jobs are the parent's dials (the
 * pending table fails the child's copies of them): drop them, leak nothing the
 * parent owns. */
void driver_atfork_child(void)
{
    /* The parent's queued jobs are left to leak, not freed: this runs inside
     * fork, where an allocator lock another thread of the parent held stays held
     * in the child (the sanitizers' allocators do not take theirs around fork). */
    head = tail = NULL;
    threads = idle = n_keys = 0;
    pthread_mutex_init(&mu, NULL);
    pthread_cond_init(&cv, NULL);
}
