/* ownthread: the shim's own threads (the non-blocking dials' driver, the
 * watchdog, the netns helper).
 *
 * Promise: a thread made here runs with every signal a program could deliver
 * blocked (common/sigmask.h), so none of the program's handlers ever runs on it;
 * the caller's own mask is as it was on return. STACK bytes of stack. No lock is
 * taken here; pthread_create allocates (never call it from a signal handler).
 */
#ifndef DIALSHIM_OWNTHREAD_H
#define DIALSHIM_OWNTHREAD_H

#include <pthread.h>
#include <stddef.h>

/* Start FN(ARG): detached when JOIN is NULL, else joinable through *JOIN.
 * 0 or an errno (ENOMEM, EAGAIN). */
int own_thread(void *(*fn)(void *), void *arg, size_t stack, pthread_t *join);

#endif
