/* gairules: glibc's getaddrinfo rules for a name that is answered here: the
 * EAI code of a bad call and the (socktype, protocol, port) tuples of a good one.
 *
 * Promise: for every hints and service, gai_rules() returns the code glibc 2.36's
 * getaddrinfo returns for the same call on a name it would find (checks in
 * glibc's order, so a call with two faults gets glibc's code), and the tuples in
 * glibc's order. Reads /etc/services (NSS files) and, for AI_ADDRCONFIG, the
 * interfaces' addresses; nothing else, no lock, no network.
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
