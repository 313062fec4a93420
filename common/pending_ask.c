/* pending_ask: what the program asks of a socket the engine dialed (its record,
 * common/pending.h): SO_ERROR, getpeername, and for the wait hooks the record's
 * eventfd and whether its dial failed. Each answer takes the records' mutex once
 * and makes no system call. */
#include "common/pending.h"

#include "common/pending_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

bool pending_so_error(int fd, int *err)
{
    struct rec *r;
    bool ours = false;

    pthread_mutex_lock(&pending_mu);
    if ((r = rec_of(fd)) && (r->pending || r->err)) {
        *err = r->pending ? EINPROGRESS : r->err;
        pending_forked_log(r);
        __atomic_store_n(&r->err, r->pending ? r->err : 0, __ATOMIC_RELAXED);
        ours = true;
    }
    pthread_mutex_unlock(&pending_mu);
    return ours;
}

int pending_peer(int fd, struct sockaddr *sa, socklen_t *len, int *ret)
{
    struct rec *r;
    int answered = 0;

    pthread_mutex_lock(&pending_mu);
    if ((r = rec_of(fd)) && (r->pending || !r->ok)) {
        /* pending, or failed: not connected, whatever the proxy connection was */
        errno = ENOTCONN;
        *ret = -1;
        answered = 1;
    } else if (r && r->peerlen) {
        memcpy(sa, &r->peer, *len < r->peerlen ? *len : r->peerlen);
        *len = r->peerlen;
        *ret = 0;
        answered = 1;
    }
    pthread_mutex_unlock(&pending_mu);
    return answered;
}

int pending_waitfd(int fd)
{
    struct rec *r;
    int w = -1;

    pthread_mutex_lock(&pending_mu);
    /* (relaxed atomics under the lock: what the wait hooks read is plain for
     * ThreadSanitizer, which does not see this lock from inside its poll) */
    if ((r = rec_of(fd)) && __atomic_load_n(&r->pending, __ATOMIC_RELAXED))
        w = r->efd;
    pthread_mutex_unlock(&pending_mu);
    return w;
}

bool pending_failed(int fd)
{
    struct rec *r;
    bool f;

    pthread_mutex_lock(&pending_mu);
    f = (r = rec_of(fd)) && !__atomic_load_n(&r->pending, __ATOMIC_RELAXED) &&
        __atomic_load_n(&r->err, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&pending_mu);
    return f;
}
