#include "common/netns.h"

#include "common/ownthread.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

struct ns_job {
    const char *path;
    int domain, type, protocol;
    int fd, err;
};

/* setns changes only this thread's namespace: it ends right after, and the
 * socket keeps the namespace it was made in. */
static void *ns_thread(void *arg)
{
    struct ns_job *j = arg;
    int nsfd = open(j->path, O_RDONLY | O_CLOEXEC);

    if (nsfd < 0) {
        j->err = errno;
        return NULL;
    }
    if (setns(nsfd, CLONE_NEWNET) < 0) {
        j->err = errno;
        sys.close(nsfd);
        return NULL;
    }
    sys.close(nsfd);
    j->fd = sys.socket(j->domain, j->type | SOCK_CLOEXEC, j->protocol);
    if (j->fd < 0)
        j->err = errno;
    return NULL;
}

int netns_socket(const char *path, int domain, int type, int protocol, int *fd)
{
    struct ns_job j = {path, domain, type, protocol, -1, 0};
    pthread_t t;
    int rc, cancel_state;

    /* No signal of the program's may run on our thread (in the other namespace),
     * and a cancellation inside pthread_join would leak the socket. */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    rc = own_thread(ns_thread, &j, 64 * 1024, &t);
    if (rc == 0)
        pthread_join(t, NULL);
    pthread_setcancelstate(cancel_state, NULL);
    if (rc)
        return rc;
    if (j.err)
        return j.err;
    *fd = j.fd;
    return 0;
}
