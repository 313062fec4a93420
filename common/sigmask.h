/* sigmask: the mask for the shim's own threads (the non-blocking dials' driver,
 * the netns helper).
 *
 * Promise: every signal a program could deliver to the process is blocked, so
 * none of its handlers runs on a thread of ours; the synchronous ones (SIGSYS,
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) stay open. Those come from the
 * thread's own instruction or system call and cannot wait: blocked, the kernel
 * kills the whole process instead. A sandbox answers the calls it forbids with a
 * SIGSYS its handler serves (a browser's file broker): on our thread too.
 */
#ifndef DIALSHIM_SIGMASK_H
#define DIALSHIM_SIGMASK_H

#include <signal.h>

static inline void sigmask_for_own_thread(sigset_t *s)
{
    static const int sync[] = {SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};

    sigfillset(s);
    for (unsigned i = 0; i < sizeof(sync) / sizeof(sync[0]); i++)
        sigdelset(s, sync[i]);
}

#endif
