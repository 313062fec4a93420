/* gairules: glibc's getaddrinfo rules for a name that is answered here, asked of
 * glibc itself: the EAI code of a bad call and the (socktype, protocol, port)
 * tuples of a good one.
 *
 * Promise: gai_rules() returns what glibc's getaddrinfo returns for the same
 * service and hints on a name it would find (a call with two faults gets glibc's
 * code), and the tuples in glibc's order, because they are glibc's: one real
 * getaddrinfo of a numeric placeholder, which glibc answers without the network
 * (it reads /etc/services for a named service, and the interfaces' addresses for
 * AI_ADDRCONFIG, as it would for the name). An AF_UNSPEC call with AI_ADDRCONFIG
 * on a host with IPv6 takes a second one, to learn whether glibc narrowed it.
 * errno is glibc's when EAI_SYSTEM is returned.
 */
#ifndef DIALSHIM_GAIRULES_H
#define DIALSHIM_GAIRULES_H

#include "common/addrinfo.h"

#include <netdb.h>

#define GAI_MAX_TUPLES 8 /* socktype/protocol/port combinations per address */

/* 0 with the tuples in T[0..*NT) (room for GAI_MAX_TUPLES) and in *FAMILY the
 * family to look up (AI_ADDRCONFIG may narrow AF_UNSPEC), or an EAI code. */
int gai_rules(const char *service, const struct addrinfo *h, int *family, struct gai_tuple *t,
              int *nt);

#endif
