/* hostent: gethostbyname* and gethostbyaddr* (the policy behind their hooks).
 *
 * Promise: each behaves like the glibc call it stands for (return value, errno,
 * h_errno, the layout of the hostent and its buffer), except that a name takes
 * the route (common/lookup.h) as in getaddrinfo; numeric names, bad families and
 * NULL go to the real function. A fake address gives back its name (or
 * HOST_NOT_FOUND once its slot was recycled); a reverse lookup whose route's proxy
 * gets names has no answer. The non-reentrant forms answer from thread-local
 * storage (glibc's is static, which no threaded program can rely on anyway).
 */
#ifndef DIALSHIM_HOSTENT_H
#define DIALSHIM_HOSTENT_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

struct hostent *netdb_gethostbyname(const char *name);
struct hostent *netdb_gethostbyname2(const char *name, int af);
int netdb_gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
                          struct hostent **result, int *h_errnop);
int netdb_gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
                           struct hostent **result, int *h_errnop);
struct hostent *netdb_gethostbyaddr(const void *addr, socklen_t len, int type);
int netdb_gethostbyaddr_r(const void *addr, socklen_t len, int type, struct hostent *ret, char *buf,
                          size_t buflen, struct hostent **result, int *h_errnop);

#endif
