/* The shim's descriptors of background dials (common/pending.h), kept from the
 * program's close_range(2) and closefrom(3).
 *
 * Each dial works on a high-numbered duplicate of the program's socket and has an
 * eventfd for its waiters. A program that closes every descriptor above its own
 * (closefrom(3), before exec or to tidy up) would close them: the dial would fail,
 * and worse, the numbers could be given to the program's next files, which the
 * driver would then write its handshake to and close at the end. So the records
 * holding such descriptors are listed here, and the close_range hooks close every
 * stretch of the range between them (with the shim's registered ones,
 * common/ownfd.h). A close(2) of one such number by the program is not kept
 * from it (the number was never the program's to close). */
#include "common/owner.h"
#include "common/ownfd.h"
#include "common/pending_int.h"
#include "common/sys.h"

#include <stdlib.h>

static struct rec *head;
static int n_listed;

void rec_list(struct rec *r)
{
    r->prev = NULL;
    r->next = head;
    if (head)
        head->prev = r;
    head = r;
    r->listed = true;
    __atomic_store_n(&n_listed, n_listed + 1, __ATOMIC_RELAXED);
}

void rec_unlist(struct rec *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->listed = false;
    __atomic_store_n(&n_listed, n_listed - 1, __ATOMIC_RELAXED);
}

bool pending_keeps_fds(void)
{
    /* a vfork child's table is a copy: closing the parent's numbers there is
     * harmless, and it must not take the parent's locks or allocate */
    return __atomic_load_n(&n_listed, __ATOMIC_RELAXED) && !owner_foreign();
}

int pending_close_range(unsigned first, unsigned last, int flags)
{
    int *fds = NULL, n = 0, r;

    /* Held across the close: no record's descriptor is closed and its number
     * reused by the shim meanwhile. */
    pthread_mutex_lock(&pending_mu);
    if (n_listed && (fds = malloc((size_t)n_listed * 2 * sizeof(int)))) {
        for (struct rec *p = head; p; p = p->next) {
            if (p->dupfd >= 0)
                fds[n++] = p->dupfd;
            if (p->efd >= 0)
                fds[n++] = p->efd;
        }
    }
    r = ownfd_close_range(first, last, flags, fds, n);
    pthread_mutex_unlock(&pending_mu);
    free(fds);
    return r;
}
