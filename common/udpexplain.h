/* udpexplain: what `dialshim explain ... udp HOST PORT` says a datagram does.
 *
 * Promise: reads the configuration it is given and nothing else; no system call,
 * no allocation.
 */
#ifndef DIALSHIM_UDPEXPLAIN_H
#define DIALSHIM_UDPEXPLAIN_H

#include "conf/conf.h"

#include <stddef.h>
#include <stdint.h>

/* One line: what a datagram routed to DIALER does, and for port 53 where DNS
 * queries leave from. */
void udp_explain(const struct conf *c, int dialer, uint16_t port, char *buf, size_t cap);

#endif
