/* relay_peer: the peer an associated socket is connected to (connect, the fake
 * address it was connected through, getpeername, connect(AF_UNSPEC)), the recent
 * destinations it sent to, and how a destination is kept as the program named it
 * (to name the source of the replies). See relay.h; the table and the
 * associations' lifetime are relay.c's, the datagrams relayio.c's. */
#include "common/relay.h"

#include "common/addr.h"
#include "common/reentry.h"
#include "common/relay_int.h"
#include "common/sys.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

void relay_set_peer(struct peer *p, const struct relay_target *t)
{
    memset(p, 0, sizeof(*p));
    if (t->host)
        snprintf(p->host, sizeof(p->host), "%s", t->host);
    else
        memcpy(&p->ip, t->sa, addr_len(t->sa->sa_family));
    p->port = t->port;
    if (t->view) {
        memcpy(&p->view, t->view, t->view_len < sizeof(p->view) ? t->view_len : sizeof(p->view));
        p->view_len = t->view_len;
    } else if (t->sa) {
        p->view_len = addr_len(t->sa->sa_family);
        memcpy(&p->view, t->sa, p->view_len);
    }
}

int relay_connect(int fd, const struct relay_target *t)
{
    struct assoc *a = reentry_nested() ? NULL : relay_get(fd);
    int err = 0;

    if (!a)
        return EBADF;
    /* Connected to the relay, the socket hears the relay alone, as a connected
     * socket hears its peer alone; the peer is checked on each datagram. An
     * association not opened yet: its caller held the socket elsewhere, and
     * relay_open_end connects it to the relay. */
    pthread_mutex_lock(&a->open_lock);
    if (relay_is_open(a) && sys.connect(fd, (struct sockaddr *)&a->c.relay, a->c.relay_len) < 0) {
        err = errno;
    } else {
        pthread_mutex_lock(&a->lock);
        relay_set_peer(&a->peer, t);
        a->connected = true;
        pthread_mutex_unlock(&a->lock);
    }
    pthread_mutex_unlock(&a->open_lock);
    relay_put(a);
    return err;
}

void relay_set_view(int fd, const struct sockaddr *sa, socklen_t len)
{
    struct assoc *a = reentry_nested() ? NULL : relay_get(fd);

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    if (a->connected && len <= sizeof(a->peer.view)) {
        memcpy(&a->peer.view, sa, len);
        a->peer.view_len = len;
    }
    pthread_mutex_unlock(&a->lock);
    relay_put(a);
}

bool relay_peer(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct assoc *a = reentry_nested() ? NULL : relay_get(fd);
    bool connected = false;

    if (!a)
        return false;
    pthread_mutex_lock(&a->lock);
    if ((connected = a->connected)) {
        memcpy(sa, &a->peer.view, a->peer.view_len < *len ? a->peer.view_len : *len);
        *len = a->peer.view_len;
    }
    pthread_mutex_unlock(&a->lock);
    relay_put(a);
    return connected;
}

void relay_forget_peer(int fd)
{
    struct assoc *a;

    if (reentry_nested()) {
        relay_let_go(fd);
        return;
    }
    a = relay_get(fd);

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->connected = false;
    pthread_mutex_unlock(&a->lock);
    relay_put(a);
}

static bool peer_matches(const struct peer *p, const struct relay_target *t)
{
    if (p->port != t->port)
        return false;
    if (t->host)
        return p->host[0] && !strcmp(p->host, t->host);
    return !p->host[0] && p->ip.ss_family && addr_same((struct sockaddr *)&p->ip, t->sa, false);
}

void relay_remember(struct assoc *a, const struct relay_target *t)
{
    int last;

    pthread_mutex_lock(&a->lock);
    last = (a->next_recent + RELAY_RECENT - 1) % RELAY_RECENT;
    if (!peer_matches(&a->recent[last], t)) {
        relay_set_peer(&a->recent[a->next_recent], t);
        a->next_recent = (a->next_recent + 1) % RELAY_RECENT;
    }
    pthread_mutex_unlock(&a->lock);
}
