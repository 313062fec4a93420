#include "common/ownthread.h"

#include "common/sigmask.h"

#include <errno.h>
#include <signal.h>

int own_thread(void *(*fn)(void *), void *arg, size_t stack, pthread_t *join)
{
    pthread_attr_t a;
    pthread_t t;
    sigset_t all, old;
    int err;

    if (pthread_attr_init(&a))
        return ENOMEM;
    if (!join)
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, stack);
    /* The thread inherits the mask it is made under. */
    sigmask_for_own_thread(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(join ? join : &t, &a, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    return err;
}
