#include "common/dialer/dialer.h"

#include <errno.h>

int dialer_dial(struct dial *d)
{
    const struct conf_dialer *cd = &d->conf->dialers[d->dialer];

    switch (cd->type) {
    case DIALER_DIRECT:
        return default_dial(d, conf_connect_timeout(d->conf, d->dialer));
    case DIALER_BLOCK:
        d->failed = "blocked";
        return d->type == SOCK_DGRAM ? EPERM : ECONNREFUSED;
    case DIALER_SOCKS5:
    case DIALER_SOCKS4:
    case DIALER_HTTP:
        if (d->type == SOCK_DGRAM) {
            /* Never let a datagram meant for a proxy leave directly. */
            d->failed = conf_udp_mode(cd) == UDP_ASSOCIATE
                            ? "UDP through a proxy (udp = associate) is not built yet"
                            : "UDP blocked by the proxy dialer (udp = block)";
            return EPERM;
        }
        return detour_dial(d, conf_connect_timeout(d->conf, d->dialer));
    }
    d->failed = "unknown dialer type";
    return EACCES;
}
