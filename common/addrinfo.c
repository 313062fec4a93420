#include "common/addrinfo.h"

#include "common/sys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The heads of the lists made here and not yet freed: an open-addressing set
 * (linear probing, backward-shift deletion), so freeaddrinfo can tell ours from
 * glibc's by the pointer value alone, without reading a byte of the list. */
static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *own_slot;
static size_t own_cap, own_n; /* own_cap: 0 or a power of two */
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static void own_register_atfork(void)
{
    pthread_atfork(netdb_atfork_prepare, netdb_atfork_parent, netdb_atfork_child);
}

static size_t own_hash(uintptr_t p)
{
    return (size_t)(((uint64_t)p >> 4) * 0x9e3779b97f4a7c15ull >> 20);
}

/* Under own_lock. */
static void own_put(uintptr_t *slot, size_t cap, uintptr_t p)
{
    size_t i = own_hash(p) & (cap - 1);

    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = p;
}

/* Under own_lock: room for one more at a load of at most one half. */
static bool own_grow(void)
{
    size_t cap = own_cap ? own_cap * 2 : 64;
    uintptr_t *slot;

    if ((own_n + 1) * 2 <= own_cap)
        return true;
    slot = calloc(cap, sizeof(*slot));
    if (!slot)
        return false;
    for (size_t i = 0; i < own_cap; i++)
        if (own_slot[i])
            own_put(slot, cap, own_slot[i]);
    free(own_slot);
    own_slot = slot;
    own_cap = cap;
    return true;
}

/* Under own_lock: the slot of P, or own_cap. */
static size_t own_find(uintptr_t p)
{
    if (!own_cap)
        return 0;
    for (size_t i = own_hash(p) & (own_cap - 1); own_slot[i]; i = (i + 1) & (own_cap - 1))
        if (own_slot[i] == p)
            return i;
    return own_cap;
}

/* A head may already be there when a list of ours was freed through glibc's own
 * freeaddrinfo (the layouts agree) and malloc handed the block back to us. */
static bool own_add(const struct addrinfo *ai)
{
    bool ok = true;

    pthread_once(&own_once, own_register_atfork);
    pthread_mutex_lock(&own_lock);
    if (own_find((uintptr_t)ai) == own_cap) {
        ok = own_grow();
        if (ok) {
            own_put(own_slot, own_cap, (uintptr_t)ai);
            own_n++;
        }
    }
    pthread_mutex_unlock(&own_lock);
    return ok;
}

/* Under own_lock: empties slot I and moves later entries of its probe run back,
 * so every remaining entry stays reachable from its home slot. */
static void own_remove_at(size_t i)
{
    size_t mask = own_cap - 1, j = i;

    own_slot[i] = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!own_slot[j])
            break;
        size_t home = own_hash(own_slot[j]) & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            own_slot[i] = own_slot[j];
            own_slot[j] = 0;
            i = j;
        }
    }
    own_n--;
}

/* True (and forgotten) when AI heads a list made here. */
static bool own_take(const struct addrinfo *ai)
{
    bool mine = false;

    pthread_mutex_lock(&own_lock);
    size_t i = own_find((uintptr_t)ai);
    if (i < own_cap) {
        own_remove_at(i);
        mine = true;
    }
    pthread_mutex_unlock(&own_lock);
    return mine;
}

bool netdb_owns(const struct addrinfo *res)
{
    pthread_mutex_lock(&own_lock);
    bool mine = own_find((uintptr_t)res) < own_cap;
    pthread_mutex_unlock(&own_lock);
    return mine;
}

void netdb_atfork_prepare(void)
{
    pthread_mutex_lock(&own_lock);
}

void netdb_atfork_parent(void)
{
    pthread_mutex_unlock(&own_lock);
}

/* The child keeps the set (its lists are still ours to free) with a fresh lock. */
void netdb_atfork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&own_lock, &fresh, sizeof(own_lock));
}

static void free_list(struct addrinfo *ai)
{
    while (ai) {
        struct addrinfo *next = ai->ai_next;
        free(ai->ai_canonname);
        free(ai);
        ai = next;
    }
}

void netdb_freeaddrinfo(struct addrinfo *res)
{
    if (!res)
        return;
    if (own_take(res))
        free_list(res);
    else
        sys.freeaddrinfo(res);
}

/* One node and its sockaddr in one block, as glibc allocates them. */
static struct addrinfo *new_node(const struct dns_addr *a, const struct gai_tuple *t, int flags)
{
    socklen_t len = a->family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    struct addrinfo *ai = calloc(1, sizeof(*ai) + len);

    if (!ai)
        return NULL;
    ai->ai_flags = flags;
    ai->ai_family = a->family;
    ai->ai_socktype = t->socktype;
    ai->ai_protocol = t->protocol;
    ai->ai_addrlen = len;
    ai->ai_addr = (struct sockaddr *)(ai + 1);
    dns_addr_to_sockaddr(a, ntohs(t->port), ai->ai_addr);
    return ai;
}

/* Address-major, as glibc: each address once per socket type. */
int addrinfo_build(const struct dns_addr *addrs, size_t n, const char *canon,
                   const struct gai_tuple *t, int nt, int flags, struct addrinfo **res)
{
    struct addrinfo *head = NULL, **tail = &head;

    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < nt; j++) {
            struct addrinfo *ai = new_node(&addrs[i], &t[j], flags);
            if (!ai)
                goto oom;
            *tail = ai;
            tail = &ai->ai_next;
        }
    }
    if (!head)
        return EAI_NONAME;
    if ((flags & AI_CANONNAME) && !(head->ai_canonname = strdup(canon)))
        goto oom;
    if (!own_add(head))
        goto oom;
    *res = head;
    return 0;
oom:
    free_list(head);
    return EAI_MEMORY;
}
