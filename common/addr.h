/* addr: small helpers over socket addresses. Pure; no allocation. */
#ifndef DIALSHIM_ADDR_H
#define DIALSHIM_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN 64 /* "[ffff:...:ffff]:65535" with room to spare */

/* "192.0.2.1:80" or "[2001:db8::1]:80"; "?" for other families. Returns BUF. */
char *addr_format(const struct sockaddr *sa, char *buf, size_t cap);

/* The port in host order (0 for other families). */
uint16_t addr_port(const struct sockaddr *sa);

/* AF_INET or AF_INET6 with a length that holds it. */
bool addr_is_inet(const struct sockaddr *sa, socklen_t len);

#endif
