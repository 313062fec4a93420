/* bigstack: run a deep call on a stack of its own.
 *
 * The hooks run on the program's threads, whose stacks may be as small as
 * PTHREAD_STACK_MIN (16 KiB). c-ares alone needs more than 5 KiB to process one
 * answer (a 4 KiB receive buffer on its stack among others), so a DNS query runs
 * on a heap stack of BIGSTACK_SIZE instead, entered with swapcontext (two
 * sigprocmask calls: nothing next to a network round trip).
 *
 * Promise: bigstack_call() returns FN(ARG)'s value, FN having run to its end on
 * the other stack, on the calling thread, with the same signal mask; or -1 with
 * errno ENOMEM when the stack cannot be had (the caller fails closed). A call
 * made while already on a big stack, on the main thread's stack (which grows
 * on demand), or nested in a hook (a signal handler's, which may not allocate),
 * runs where it is. Under
 * AddressSanitizer or ThreadSanitizer, which do not follow stack switches, FN runs
 * on the caller's stack. FN must return (no longjmp out of it).
 */
#ifndef DIALSHIM_BIGSTACK_H
#define DIALSHIM_BIGSTACK_H

/* A query took 5.9 KiB of it (c-ares 1.18, one A answer, painted stack); 64 KiB
 * stays below malloc's mmap threshold, so a query costs no mmap. */
#define BIGSTACK_SIZE (64 * 1024)

/* A call this close to the top of the main thread's stack runs there: the kernel
 * grows that stack to its limit (8 MiB by default), and the switch would cost
 * three system calls (the signal mask) for nothing. */
#define MAIN_STACK_SURE (1024 * 1024)

int bigstack_call(int (*fn)(void *), void *arg);

#endif
