/* numeric: names that are addresses, read the way glibc's getaddrinfo reads them.
 *
 * Promise: pure functions over the caller's strings; no allocation, no lock, no
 * system call (a "%scope" is found, not looked up: that is the caller's choice).
 */
#ifndef DIALSHIM_NUMERIC_H
#define DIALSHIM_NUMERIC_H

#include <stdbool.h>
#include <stdint.h>

/* NAME as a numeric host: every inet_aton form ("127.1", "0x7f.1") gives AF_INET
 * and 4 bytes in ADDR; IPv6 with an optional "%scope" gives AF_INET6, 16 bytes in
 * ADDR and in *SCOPE the text after the '%' (NULL without one). 0: not numeric. */
int numeric_host(const char *name, uint8_t addr[16], const char **scope);

/* Whether getaddrinfo answers NODE without the network: no node, AI_NUMERICHOST
 * in FLAGS, or a numeric host. */
bool numeric_node(const char *node, int flags);

#endif
