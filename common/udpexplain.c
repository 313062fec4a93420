#include "common/udpexplain.h"

#include "common/dialer/dialer.h"

#include <stdio.h>

void udp_explain(const struct conf *c, int dialer, uint16_t port, char *buf, size_t cap)
{
    const struct conf_dialer *cd = &c->dialers[dialer];
    char why[300];
    int hops[16], maker = -1, n;
    size_t off;

    if (associate_check(c, dialer, why, sizeof(why))) {
        snprintf(buf, cap,
                 "udp: refused: sendto/sendmsg/connect fail with EPERM (%s); nothing "
                 "is sent%s",
                 why, port == 53 ? ", no DNS query leaves" : "");
        return;
    }
    if (cd->type == DIALER_DIRECT) {
        snprintf(buf, cap, "udp: datagrams leave directly from the program's socket%s",
                 port == 53 ? "; DNS queries to port 53 go out directly" : "");
        return;
    }
    n = detour_chain(c, dialer, hops, &maker);
    off = (size_t)snprintf(buf, cap, "udp: SOCKS5 UDP ASSOCIATE");
    for (int i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s %s (%s:%u)", i ? " then" : " at",
                                c->dialers[hops[i]].name, c->dialers[hops[i]].server.host,
                                c->dialers[hops[i]].server.port);
    if (off < cap)
        off += (size_t)snprintf(buf + off, cap - off,
                                ": datagrams are wrapped and sent to the relay, never directly to "
                                "the destination; a dropped control connection fails them with "
                                "ECONNRESET");
    if (port == 53 && off < cap)
        snprintf(buf + off, cap - off, "; DNS queries to port 53 leave from the proxy%s",
                 conf_remote_dns(cd) ? " (remote_dns: names are resolved there too)" : "");
}
