/* res_query(3) and friends, getaddrinfo_a(3): the name lookups that do not go
 * through getaddrinfo. Thin: the policy is in common/resq.c. glibc 2.34+ has them
 * in libc (res_query@@GLIBC_2.34, and __res_query@GLIBC_2.2.5 for programs linked
 * against the old libresolv); our unversioned definitions take both kinds of
 * reference. The real functions are found on first use: the default version
 * first, else the __res_ name (older glibc, in libresolv). */
#include "common/resq.h"
#include "shim/init.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#define REAL_FN(type, name) ((type)shim_real(&real_##name, #name, "__" #name))

static void *real_res_query, *real_res_search, *real_res_querydomain, *real_res_send;
static void *real_res_nquery, *real_res_nsearch, *real_res_nquerydomain, *real_res_nsend;
static void *real_getaddrinfo_a;

typedef int (*query_fn)(const char *, int, int, unsigned char *, int);
typedef int (*nquery_fn)(res_state, const char *, int, int, unsigned char *, int);
typedef int (*querydomain_fn)(const char *, const char *, int, int, unsigned char *, int);
typedef int (*nquerydomain_fn)(res_state, const char *, const char *, int, int, unsigned char *,
                               int);
typedef int (*send_fn)(const unsigned char *, int, unsigned char *, int);
typedef int (*nsend_fn)(res_state, const unsigned char *, int, unsigned char *, int);
typedef int (*gai_a_fn)(int, struct gaicb **, int, struct sigevent *);

/* Nothing to call: what a missing libresolv would give. */
static int missing(void)
{
    h_errno = NETDB_INTERNAL;
    errno = ENOSYS;
    return -1;
}

/* One body per family: the policy's answer, or the real call (PASS). */
#define QUERY_BODY(fn, call, ...)                                                                  \
    do {                                                                                           \
        int r = RESQ_PASS;                                                                         \
        if (shim_enter()) {                                                                        \
            r = reentry_nested() ? reentry_refuse_res(__func__) : call;                            \
            shim_leave();                                                                          \
        }                                                                                          \
        if (r != RESQ_PASS)                                                                        \
            return r;                                                                              \
        return fn ? fn(__VA_ARGS__) : missing();                                                   \
    } while (0)

static int query(const char *call, const char *name, int class, int type, unsigned char *answer,
                 int anslen, query_fn fn)
{
    QUERY_BODY(fn, resq_query(call, name, class, type, answer, anslen, NULL), name, class, type,
               answer, anslen);
}

static int nquery(const char *call, res_state st, const char *name, int class, int type,
                  unsigned char *answer, int anslen, nquery_fn fn)
{
    QUERY_BODY(fn,
               resq_query(call, name, class, type, answer, anslen, st ? &st->res_h_errno : NULL),
               st, name, class, type, answer, anslen);
}

HOOK int res_query(const char *name, int class, int type, unsigned char *answer, int anslen)
{
    return query("res_query", name, class, type, answer, anslen, REAL_FN(query_fn, res_query));
}

HOOK int __res_query(const char *name, int class, int type, unsigned char *answer, int anslen)
{
    return res_query(name, class, type, answer, anslen);
}

HOOK int res_search(const char *name, int class, int type, unsigned char *answer, int anslen)
{
    return query("res_search", name, class, type, answer, anslen, REAL_FN(query_fn, res_search));
}

HOOK int __res_search(const char *name, int class, int type, unsigned char *answer, int anslen)
{
    return res_search(name, class, type, answer, anslen);
}

HOOK int res_nquery(res_state st, const char *name, int class, int type, unsigned char *answer,
                    int anslen)
{
    return nquery("res_nquery", st, name, class, type, answer, anslen,
                  REAL_FN(nquery_fn, res_nquery));
}

HOOK int __res_nquery(res_state st, const char *name, int class, int type, unsigned char *answer,
                      int anslen)
{
    return res_nquery(st, name, class, type, answer, anslen);
}

HOOK int res_nsearch(res_state st, const char *name, int class, int type, unsigned char *answer,
                     int anslen)
{
    return nquery("res_nsearch", st, name, class, type, answer, anslen,
                  REAL_FN(nquery_fn, res_nsearch));
}

HOOK int __res_nsearch(res_state st, const char *name, int class, int type, unsigned char *answer,
                       int anslen)
{
    return res_nsearch(st, name, class, type, answer, anslen);
}

HOOK int res_querydomain(const char *name, const char *domain, int class, int type,
                         unsigned char *answer, int anslen)
{
    querydomain_fn fn = REAL_FN(querydomain_fn, res_querydomain);
    QUERY_BODY(fn,
               resq_querydomain("res_querydomain", name, domain, class, type, answer, anslen, NULL),
               name, domain, class, type, answer, anslen);
}

HOOK int __res_querydomain(const char *name, const char *domain, int class, int type,
                           unsigned char *answer, int anslen)
{
    return res_querydomain(name, domain, class, type, answer, anslen);
}

HOOK int res_nquerydomain(res_state st, const char *name, const char *domain, int class, int type,
                          unsigned char *answer, int anslen)
{
    nquerydomain_fn fn = REAL_FN(nquerydomain_fn, res_nquerydomain);
    QUERY_BODY(fn,
               resq_querydomain("res_nquerydomain", name, domain, class, type, answer, anslen,
                                st ? &st->res_h_errno : NULL),
               st, name, domain, class, type, answer, anslen);
}

HOOK int __res_nquerydomain(res_state st, const char *name, const char *domain, int class, int type,
                            unsigned char *answer, int anslen)
{
    return res_nquerydomain(st, name, domain, class, type, answer, anslen);
}

HOOK int res_send(const unsigned char *msg, int msglen, unsigned char *answer, int anslen)
{
    send_fn fn = REAL_FN(send_fn, res_send);
    QUERY_BODY(fn, resq_send("res_send", msg, msglen, answer, anslen, NULL), msg, msglen, answer,
               anslen);
}

HOOK int __res_send(const unsigned char *msg, int msglen, unsigned char *answer, int anslen)
{
    return res_send(msg, msglen, answer, anslen);
}

HOOK int res_nsend(res_state st, const unsigned char *msg, int msglen, unsigned char *answer,
                   int anslen)
{
    nsend_fn fn = REAL_FN(nsend_fn, res_nsend);
    QUERY_BODY(fn,
               resq_send("res_nsend", msg, msglen, answer, anslen, st ? &st->res_h_errno : NULL),
               st, msg, msglen, answer, anslen);
}

HOOK int __res_nsend(res_state st, const unsigned char *msg, int msglen, unsigned char *answer,
                     int anslen)
{
    return res_nsend(st, msg, msglen, answer, anslen);
}

/* ---- getaddrinfo_a ---- */

struct notify {
    void (*fn)(union sigval);
    union sigval value;
};

static void *notify_thread(void *arg)
{
    struct notify n = *(struct notify *)arg;

    free(arg);
    n.fn(n.value);
    return NULL;
}

/* GAI_NOWAIT with every request answered here: the notification glibc would
 * send once they were all done. */
static void notify(const struct sigevent *sig)
{
    if (sig->sigev_notify == SIGEV_SIGNAL) {
        sigqueue(getpid(), sig->sigev_signo, sig->sigev_value);
    } else if (sig->sigev_notify == SIGEV_THREAD && sig->sigev_notify_function) {
        struct notify *n = malloc(sizeof(*n));
        pthread_attr_t attr, *a = sig->sigev_notify_attributes;
        pthread_t t;
        if (!n)
            return;
        n->fn = sig->sigev_notify_function;
        n->value = sig->sigev_value;
        if (!a) {
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            a = &attr;
        }
        if (pthread_create(&t, a, notify_thread, n) != 0)
            free(n);
        if (a == &attr)
            pthread_attr_destroy(&attr);
    }
}

/* Requests whose route answers without a query are answered here, at once; the
 * rest (a real route, digits) go to the real getaddrinfo_a, as without us. */
HOOK int getaddrinfo_a(int mode, struct gaicb *list[], int ent, struct sigevent *sig)
{
    gai_a_fn fn = REAL_FN(gai_a_fn, getaddrinfo_a);
    struct gaicb *rest[64], **left = rest;
    int n = 0, r;

    if ((mode != GAI_WAIT && mode != GAI_NOWAIT) || ent < 0 || !shim_enter())
        return fn ? fn(mode, list, ent, sig) : EAI_SYSTEM;
    if (reentry_nested()) { /* a signal handler inside another call: no lock to be had */
        shim_leave();
        reentry_refuse_res("getaddrinfo_a");
        return EAI_AGAIN;
    }
    if (ent > (int)(sizeof(rest) / sizeof(rest[0])) && !(left = malloc(ent * sizeof(*left)))) {
        shim_leave();
        return EAI_MEMORY;
    }
    for (int i = 0; i < ent; i++)
        if (list[i] && !resq_gai_take(list[i]))
            left[n++] = list[i];
    shim_leave();
    if (n > 0)
        r = fn ? fn(mode, left, n, sig) : EAI_SYSTEM;
    else
        r = 0;
    if (n == 0 && mode == GAI_NOWAIT && sig)
        notify(sig);
    if (left != rest)
        free(left);
    return r;
}
