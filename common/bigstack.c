#include "common/bigstack.h"

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
struct call {
    int (*fn)(void *);
    void *arg;
    int ret;
    ucontext_t back;
};

/* makecontext passes int arguments: the pointer goes in two halves. */
static void trampoline(unsigned lo, unsigned hi)
{
    struct call *c = (struct call *)(((unsigned long)hi << 32) | lo);

    c->ret = c->fn(c->arg);
}
#endif

int bigstack_call(int (*fn)(void *), void *arg)
{
#ifdef BIGSTACK_OFF
    return fn(arg);
#else
    struct call c = {.fn = fn, .arg = arg};
    ucontext_t there;
    void *stack = malloc(BIGSTACK_SIZE);
    unsigned long p = (unsigned long)&c;

    if (!stack || getcontext(&there) < 0) {
        free(stack);
        errno = ENOMEM;
        return -1;
    }
    there.uc_stack.ss_sp = stack;
    there.uc_stack.ss_size = BIGSTACK_SIZE;
    there.uc_link = &c.back; /* where the trampoline's return lands */
    makecontext(&there, (void (*)(void))trampoline, 2, (unsigned)p, (unsigned)(p >> 32));
    if (swapcontext(&c.back, &there) < 0) {
        free(stack);
        errno = ENOMEM;
        return -1;
    }
    free(stack);
    return c.ret;
#endif
}
