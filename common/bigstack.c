#include "common/bigstack.h"

#include "common/reentry.h"

#include <errno.h>
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

int bigstack_call(int (*fn)(void *), void *arg)
{
#ifdef BIGSTACK_OFF
    return fn(arg);
#else
    struct call *c;
    unsigned long p;
    int ret;

    /* Already on one; or inside a call a signal handler interrupted, where malloc
     * may be held (common/reentry.h): the nested paths are shallow, run there. */
    if (on_big || reentry_nested())
        return fn(arg);
    if (!(c = malloc(sizeof(*c) + BIGSTACK_SIZE)))
        goto nomem;
    c->fn = fn;
    c->arg = arg;
    p = (unsigned long)c;
    if (getcontext(&c->there) < 0)
        goto fail;
    c->there.uc_stack.ss_sp = c + 1;
    c->there.uc_stack.ss_size = BIGSTACK_SIZE;
    c->there.uc_link = &c->back; /* where the trampoline's return lands */
    makecontext(&c->there, (void (*)(void))trampoline, 2, (unsigned)p, (unsigned)(p >> 32));
    if (swapcontext(&c->back, &c->there) < 0)
        goto fail;
    ret = c->ret;
    free(c);
    return ret;
fail:
    free(c);
nomem:
    errno = ENOMEM;
    return -1;
#endif
}
