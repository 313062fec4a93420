#include "common/hostent.h"

#include "common/state.h"
#include "common/fakeip.h"
#include "common/lookup.h"
#include "common/numeric.h"
#include "common/sys.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define HOSTENT_BUF 2048 /* thread-local room of gethostbyname*: 32 IPv6 addresses and names */

struct hostent_in {
    const char *name;  /* h_name */
    const char *alias; /* the one alias, or NULL */
    int type, len;     /* h_addrtype, h_length */
    const uint8_t *addrs[DNS_MAX_ADDRS];
    size_t n;
};

static size_t align_up(size_t v)
{
    return (v + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

/* Lays IN out in BUF (pointers first, then addresses, then names) and points
 * RET at it. 0 or ERANGE. */
static int hostent_fill(const struct hostent_in *in, struct hostent *ret, char *buf, size_t buflen)
{
    size_t pad = align_up((uintptr_t)buf) - (uintptr_t)buf;
    size_t nl = strlen(in->name) + 1, al = in->alias ? strlen(in->alias) + 1 : 0;
    size_t need = pad + (2 + in->n + 1) * sizeof(char *) + in->n * (size_t)in->len + nl + al;
    char **ptrs, *p;

    if (!buf || buflen < need)
        return ERANGE;
    ptrs = (char **)(void *)(buf + pad);
    p = (char *)(ptrs + 2 + in->n + 1);
    ret->h_aliases = ptrs;
    ret->h_addr_list = ptrs + 2;
    for (size_t i = 0; i < in->n; i++, p += in->len) {
        memcpy(p, in->addrs[i], (size_t)in->len);
        ret->h_addr_list[i] = p;
    }
    ret->h_addr_list[in->n] = NULL;
    ret->h_name = memcpy(p, in->name, nl);
    p += nl;
    ret->h_aliases[0] = in->alias ? memcpy(p, in->alias, al) : NULL;
    ret->h_aliases[1] = NULL;
    ret->h_addrtype = in->type;
    ret->h_length = in->len;
    return 0;
}

/* What gethostbyname*_r return and set for an EAI code (glibc's NSS wrapper:
 * not found is 0 with HOST_NOT_FOUND, a timeout EAGAIN with TRY_AGAIN). */
static int herr_of(int rc, bool blocked, int *h_errnop)
{
    int err = errno;

    switch (rc) {
    case EAI_NONAME:
        *h_errnop = HOST_NOT_FOUND;
        return 0;
    case EAI_AGAIN:
        *h_errnop = TRY_AGAIN;
        return EAGAIN;
    case EAI_MEMORY:
        *h_errnop = NETDB_INTERNAL;
        return ENOMEM;
    case EAI_SYSTEM:
        *h_errnop = NETDB_INTERNAL;
        return err ? err : EIO;
    default:
        *h_errnop = NO_RECOVERY;
        return blocked ? EPERM : EIO;
    }
}

static int finish_r(int ret, struct hostent *he, struct hostent **result)
{
    *result = ret == 0 ? he : NULL;
    if (ret)
        errno = ret;
    return ret;
}

/* A broken configuration with fail_closed: the _r forms' refusal. */
static int denied_r(struct hostent **result, int *h_errnop)
{
    *result = NULL;
    *h_errnop = NO_RECOVERY;
    errno = EACCES;
    return EACCES;
}

/* gethostbyname2_r for a name that takes the route. */
static int routed_byname(const char *call, const char *name, int af, struct hostent *ret, char *buf,
                         size_t buflen, struct hostent **result, int *h_errnop)
{
    struct query q = {.call = call, .name = name, .family = af, .net = NET_TCP};
    struct hostent_in in = {.type = af, .len = af == AF_INET ? 4 : 16};
    struct answer a;
    int rc;

    *result = NULL;
    if (!*name) {
        *h_errnop = HOST_NOT_FOUND;
        return 0;
    }
    rc = lookup_resolve(&q, &a);
    if (rc) {
        int r = herr_of(rc, a.blocked, h_errnop);
        if (r)
            errno = r;
        return r;
    }
    in.name = a.canon;
    in.alias = strcasecmp(a.canon, name) != 0 ? name : NULL;
    for (size_t i = 0; i < a.n; i++)
        in.addrs[in.n++] = a.addrs[i].addr;
    if (hostent_fill(&in, ret, buf, buflen) != 0) {
        *h_errnop = NETDB_INTERNAL;
        return finish_r(ERANGE, ret, result);
    }
    *h_errnop = NETDB_SUCCESS;
    return finish_r(0, ret, result);
}

/* What a gethostbyname* call does: the real function, refuse, or route. */
static enum gate byname_gate(const char *name, int af)
{
    enum gate g = state_gate(AF_INET);
    uint8_t addr[16];
    const char *scope;

    if (g != GATE_HANDLE)
        return g;
    /* A bad family or no name is the real function's to report; digits it
     * answers without the network. */
    if (!name || (af != AF_INET && af != AF_INET6) || numeric_host(name, addr, &scope))
        return GATE_PASS;
    return GATE_HANDLE;
}

int netdb_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                           struct hostent **result, int *h_errnop)
{
    switch (byname_gate(name, af)) {
    case GATE_PASS:
        return sys.gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
    case GATE_DENY:
        return denied_r(result, h_errnop);
    default:
        return routed_byname("gethostbyname2_r", name, af, ret, buf, buflen, result, h_errnop);
    }
}

int netdb_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                          struct hostent **result, int *h_errnop)
{
    switch (byname_gate(name, AF_INET)) {
    case GATE_PASS:
        return sys.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
    case GATE_DENY:
        return denied_r(result, h_errnop);
    default:
        return routed_byname("gethostbyname_r", name, AF_INET, ret, buf, buflen, result, h_errnop);
    }
}

/* The non-reentrant forms' storage: per thread (glibc's is per process). */
/* initial-exec: the library is preloaded, never dlopen'ed late, and the
 * general-dynamic model would import __tls_get_addr for these two alone. */
static __thread struct hostent tls_he __attribute__((tls_model("initial-exec")));
static __thread char tls_buf[HOSTENT_BUF] __attribute__((tls_model("initial-exec")));

static struct hostent *routed_static(const char *call, const char *name, int af)
{
    struct hostent *r = NULL;
    int herr = NETDB_SUCCESS;

    routed_byname(call, name, af, &tls_he, tls_buf, sizeof(tls_buf), &r, &herr);
    h_errno = herr;
    return r;
}

static struct hostent *denied(void)
{
    h_errno = NO_RECOVERY;
    errno = EACCES;
    return NULL;
}

struct hostent *netdb_gethostbyname2(const char *name, int af)
{
    switch (byname_gate(name, af)) {
    case GATE_PASS:
        return sys.gethostbyname2(name, af);
    case GATE_DENY:
        return denied();
    default:
        return routed_static("gethostbyname2", name, af);
    }
}

struct hostent *netdb_gethostbyname(const char *name)
{
    switch (byname_gate(name, AF_INET)) {
    case GATE_PASS:
        return sys.gethostbyname(name);
    case GATE_DENY:
        return denied();
    default:
        return routed_static("gethostbyname", name, AF_INET);
    }
}

/* Whether ADDR is a fake address (an IPv4 one also as ::ffff:a.b.c.d). */
static bool fake_addr(const void *addr, socklen_t len, int type)
{
    return addr && ((type == AF_INET && len == 4) || (type == AF_INET6 && len == 16)) &&
           fakeip_is_fake_addr(type, addr);
}

/* A fake address: its name, or HOST_NOT_FOUND once its slot was recycled. */
static int fake_byaddr(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                       size_t buflen, struct hostent **result, int *h_errnop)
{
    char name[FAKEIP_NAME_MAX];
    struct hostent_in in = {.name = name, .type = type, .len = (int)len, .n = 1};

    *result = NULL;
    if (!fakeip_lookup_addr(type, addr, name, sizeof(name))) {
        *h_errnop = HOST_NOT_FOUND;
        return 0;
    }
    in.addrs[0] = addr;
    if (hostent_fill(&in, ret, buf, buflen) != 0) {
        *h_errnop = NETDB_INTERNAL;
        return finish_r(ERANGE, ret, result);
    }
    *h_errnop = NETDB_SUCCESS;
    return finish_r(0, ret, result);
}

int netdb_gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                          size_t buflen, struct hostent **result, int *h_errnop)
{
    switch (state_gate(AF_INET)) {
    case GATE_DENY:
        return denied_r(result, h_errnop);
    case GATE_HANDLE:
        if (fake_addr(addr, len, type))
            return fake_byaddr(addr, len, type, ret, buf, buflen, result, h_errnop);
        if (lookup_no_ptr_addr("gethostbyaddr", addr, len, type)) {
            *result = NULL;
            *h_errnop = h_errno = HOST_NOT_FOUND; /* python reads h_errno itself */
            return 0;
        }
        /* fall through */
    default:
        return sys.gethostbyaddr_r(addr, len, type, ret, buf, buflen, result, h_errnop);
    }
}

struct hostent *netdb_gethostbyaddr(const void *addr, socklen_t len, int type)
{
    struct hostent *r = NULL;
    int herr = NETDB_SUCCESS;

    switch (state_gate(AF_INET)) {
    case GATE_DENY:
        return denied();
    case GATE_HANDLE:
        if (fake_addr(addr, len, type)) {
            fake_byaddr(addr, len, type, &tls_he, tls_buf, sizeof(tls_buf), &r, &herr);
            h_errno = herr;
            return r;
        }
        if (lookup_no_ptr_addr("gethostbyaddr", addr, len, type)) {
            h_errno = HOST_NOT_FOUND;
            return NULL;
        }
        /* fall through */
    default:
        return sys.gethostbyaddr(addr, len, type);
    }
}
