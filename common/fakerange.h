/* fakerange: the lock-free half of common/fakeip.h, which fake ranges are on.
 *
 * Promise: fakeip_is_fake*() (common/fakeip.h includes this header) are a
 * range compare on data that fakerange_set() writes, and only fakeip_init() and
 * fakeip_free() call it (while no other thread uses the module): no lock, no
 * system call, safe on every connect.
 */
#ifndef DIALSHIM_FAKERANGE_H
#define DIALSHIM_FAKERANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* B4 (4 bytes, host bits cleared) with prefix P4, B6 (16 bytes) with P6; NULL
 * turns the family off. */
void fakerange_set(const uint8_t *b4, int p4, const uint8_t *b6, int p6);

/* The family and address bytes of SA, or false when it is too short or not IP. */
bool fakerange_sockaddr(const struct sockaddr *sa, socklen_t len, int *family, const void **addr);

/* Whether the address is inside a fake range (including its unused slots, the
 * network and last address). SA may be AF_INET, AF_INET6 or an IPv4-mapped IPv6
 * address (::ffff:198.18.0.1). False for anything shorter than its family needs. */
bool fakeip_is_fake(const struct sockaddr *sa, socklen_t len);
/* The same for raw bytes: ADDR is a struct in_addr or struct in6_addr. */
bool fakeip_is_fake_addr(int family, const void *addr);

#endif
