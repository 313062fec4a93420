#include "common/bigstack.h"

#include "common/reentry.h"
#include "common/nobss.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BIGSTACK_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BIGSTACK_OFF 1
#endif
#endif

#ifndef BIGSTACK_OFF
/* Both contexts live in the heap block with the stack: a ucontext_t is almost a
 * kilobyte, and this is the frame the program's stack pays for the switch. */
struct call {
    int (*fn)(void *);
    void *arg;
    int ret;
    ucontext_t back, there;
};

/* Inside FN: a deep call made there is already on a big stack. */
static __thread int on_big __attribute__((tls_model("initial-exec")));

/* makecontext passes int arguments: the pointer goes in two halves. */
static void trampoline(unsigned lo, unsigned hi)
{
    struct call *c = (struct call *)(((unsigned long)hi << 32) | lo);

    on_big = 1;
    c->ret = c->fn(c->arg);
    on_big = 0;
}
#endif

#ifndef BIGSTACK_OFF
/* Each thread keeps its stack once it has one: a fresh 66 KiB block per call
 * cost a trim of the heap and a fault per page touched, on every proxied connect
 * and every lookup. A thread's block is freed when the thread ends. */
static __thread struct call *mine __attribute__((tls_model("initial-exec")));
static pthread_key_t owner;
static pthread_once_t owner_once = PTHREAD_ONCE_INIT;
static bool owner_ok;

static void owner_make(void)
{
    owner_ok = pthread_key_create(&owner, free) == 0;
}

/* The thread's block, made on first use; *KEEP false: free it after this call
 * (no key to free it at the thread's end). */
static struct call *block(bool *keep)
{
    struct call *c = mine;

    *keep = true;
    if (c)
        return c;
    if (!(c = malloc(sizeof(*c) + BIGSTACK_SIZE)))
        return NULL;
    pthread_once(&owner_once, owner_make);
    if (owner_ok && pthread_setspecific(owner, c) == 0)
        mine = c;
    else
        *keep = false;
    return c;
}
#endif

#ifndef BIGSTACK_OFF
/* Run C's function on C's stack and come back; false when the switch failed. */
static __attribute__((noinline)) bool run_on(struct call *c)
{
    unsigned long p = (unsigned long)c;

    if (getcontext(&c->there) < 0)
        return false;
    c->there.uc_stack.ss_sp = c + 1;
    c->there.uc_stack.ss_size = BIGSTACK_SIZE;
    c->there.uc_link = &c->back; /* where the trampoline's return lands */
    makecontext(&c->there, (void (*)(void))trampoline, 2, (unsigned)p, (unsigned)(p >> 32));
    return swapcontext(&c->back, &c->there) == 0;
}
#endif

#ifndef BIGSTACK_OFF
/* The top of the main thread's stack, near enough: the kernel puts the
 * executable's name (AT_EXECFN) there, above the arguments and the environment.
 * That stack grows on demand up to RLIMIT_STACK, 8 MiB by default, so a call made
 * there needs no other. Not __libc_stack_end, the frames' exact top: that symbol
 * of the dynamic loader made the library need ld-linux-x86-64.so.2, whose
 * versions are checked and symbol looked up at every process start. The window
 * below this top loses what the arguments and environment take, so a call made
 * that deep takes the other stack: the safe side. */
static uintptr_t main_top_seen FIRST_DATA; /* getauxval scans the auxiliary vector: once */

static uintptr_t main_top(void)
{
    uintptr_t top = __atomic_load_n(&main_top_seen, __ATOMIC_RELAXED);

    if (!top) {
        top = (uintptr_t)getauxval(AT_EXECFN);
        __atomic_store_n(&main_top_seen, top, __ATOMIC_RELAXED);
    }
    return top;
}

/* 1: the main thread's stack may grow past MAIN_STACK_SURE; 0: not (a small
 * ulimit -s); -1: not asked yet (the answer is the same for every thread). */
static int main_grows FIRST_DATA = -1;

static bool on_main_stack(void)
{
    char here;
    uintptr_t top = main_top(), at = (uintptr_t)&here;
    int grows = __atomic_load_n(&main_grows, __ATOMIC_RELAXED);
    struct rlimit rl;

    if (at > top || top - at >= MAIN_STACK_SURE)
        return false;
    if (grows < 0) {
        grows = getrlimit(RLIMIT_STACK, &rl) == 0 &&
                (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 2 * MAIN_STACK_SURE);
        __atomic_store_n(&main_grows, grows, __ATOMIC_RELAXED);
    }
    return grows;
}
#endif

int bigstack_call(int (*fn)(void *), void *arg)
{
#ifdef BIGSTACK_OFF
    return fn(arg);
#else
    struct call *c;
    bool keep, ran;
    int ret = -1;

    /* Already on one; or inside a call a signal handler interrupted, where malloc
     * may be held (common/reentry.h): the nested paths are shallow, run there. */
    if (on_big || reentry_nested() || on_main_stack())
        return fn(arg);
    if (!(c = block(&keep))) {
        errno = ENOMEM;
        return -1;
    }
    c->fn = fn;
    c->arg = arg;
    if ((ran = run_on(c)))
        ret = c->ret;
    if (!keep)
        free(c);
    if (!ran)
        errno = ENOMEM;
    return ret;
#endif
}
