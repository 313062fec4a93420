/* sockopt: the DefaultDialer's socket options (dialshim.ini(5) [dialer], docs/architecture.md).
 *
 * Promise: sockopt_apply() sets, on an existing socket, every option the dialer
 * asks for, in an order that works (interface, mark and IP_TRANSPARENT before
 * bind, bind before connect), and nothing else. It allocates nothing and takes no
 * lock, except for netns: a socket made in that namespace by a helper thread
 * (common/netns.h) then takes FD's place with dial_swap, before any other option.
 * When the kernel refuses one, it stops, names the option in *FAILED and returns the errno:
 * the caller must fail the call, never connect without the option.
 */
#ifndef DIALSHIM_SOCKOPT_H
#define DIALSHIM_SOCKOPT_H

#include "conf/conf.h"

/* FAMILY: AF_INET or AF_INET6 of the destination; TYPE: SOCK_STREAM or SOCK_DGRAM.
 * Returns 0, or an errno with *FAILED naming the option ("bind_interface", ...). */
int sockopt_apply(const struct conf_dialer *d, int fd, int family, int type, const char **failed);

/* True when the dialer sets nothing at all (the cheapest fast path). */
bool sockopt_none(const struct conf_dialer *d);

#endif
