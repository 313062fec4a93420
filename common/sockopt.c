#include "common/sockopt.h"

#include "common/dialer/dialer.h"
#include "common/netns.h"
#include "common/sys.h"
#include "common/hotpath.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

bool sockopt_none(const struct conf_dialer *d)
{
    return !d->bind_interface[0] && !d->has_inet4_bind && !d->has_inet6_bind && !d->has_mark &&
           !d->reuse_addr && !d->tcp_fast_open && d->udp_fragment == TRI_UNSET &&
           !d->protect_path[0] && !d->tcp_keep_alive_ms && !d->tcp_keep_alive_interval_ms &&
           !d->disable_tcp_keep_alive && !d->ip_transparent && !d->netns[0];
}

HOT_PATH static int set_int(int fd, int level, int name, int value)
{
    return sys.setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? errno : 0;
}

/* Hand the socket to a local "protector" (Android VpnService style) and wait for
 * its one-byte answer, so it can exempt the socket from a VPN before we connect. */
RARE_PATH static int protect(const char *path, int fd, uint32_t timeout_ms)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int s, err = 0;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    s = sys.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return errno;
    sys.setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sys.setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    if (sys.connect(s, (struct sockaddr *)&sun, sizeof(sun)) < 0 || sys.sendmsg(s, &msg, 0) != 1 ||
        sys.recv(s, &byte, 1, 0) != 1)
        err = errno ? errno : ECONNRESET;
    sys.close(s);
    /* A protector that never answers is a timeout, whatever SO_RCVTIMEO calls it. */
    return err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS ? ETIMEDOUT : err;
}

HOT_PATH static int bind_source(const struct conf_dialer *d, int fd, int family)
{
    union {
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } a;
    socklen_t len;

    memset(&a, 0, sizeof(a));
    if (family == AF_INET && d->has_inet4_bind) {
        a.in4.sin_family = AF_INET;
        a.in4.sin_addr = d->inet4_bind;
        len = sizeof(a.in4);
    } else if (family == AF_INET6 && d->has_inet6_bind) {
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_addr = d->inet6_bind;
        len = sizeof(a.in6);
    } else {
        return 0;
    }
    return bind(fd, (struct sockaddr *)&a, len) < 0 ? errno : 0;
}

/* Only what a key asks: a program's own SO_KEEPALIVE and timings stay as they are
 * when none is set (sing-box would switch keep-alive on for every connection). */
HOT_PATH static int keep_alive(const struct conf_dialer *d, int fd, const char **failed)
{
    if (d->disable_tcp_keep_alive) {
        *failed = "disable_tcp_keep_alive";
        return set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 0);
    }
    *failed = "tcp_keep_alive";
    if (!d->tcp_keep_alive_ms && !d->tcp_keep_alive_interval_ms)
        return 0;
    int err = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
    if (!err && d->tcp_keep_alive_ms)
        err = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)(d->tcp_keep_alive_ms / 1000));
    if (!err && d->tcp_keep_alive_interval_ms) {
        *failed = "tcp_keep_alive_interval";
        err = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)(d->tcp_keep_alive_interval_ms / 1000));
    }
    return err;
}

/* IP_TRANSPARENT lets the bind below take a non-local address; the kernel wants
 * CAP_NET_ADMIN (or CAP_NET_RAW) for it, and the reason says so. */
RARE_PATH static int transparent(int fd, int family, const char **failed)
{
    int err = family == AF_INET6 ? set_int(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
                                 : set_int(fd, IPPROTO_IP, IP_TRANSPARENT, 1);

    *failed =
        err == EPERM ? "ip_transparent (IP_TRANSPARENT needs CAP_NET_ADMIN)" : "ip_transparent";
    return err;
}

/* A socket of the same kind made in the dialer's namespace takes FD's place
 * (dial_swap: the number, the program's options and flags stay). An epoll
 * registration of the old socket does not follow it: the non-blocking dial
 * re-makes the registrations it learned. A socket the program bound itself is
 * refused: its address belongs to this namespace. */
RARE_PATH static int enter_netns(const struct conf_dialer *d, int fd, const char **failed)
{
    int domain = 0, type = 0, proto = 0, scratch, err;
    socklen_t len = sizeof(int);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    *failed = "netns";
    if (sys.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
        (len = sizeof(int), sys.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len)) < 0 ||
        (len = sizeof(int), sys.getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len)) < 0)
        return errno;
    if (sys.getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        ((ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port) ||
         (ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_port))) {
        *failed = "netns (the socket is already bound in the program's namespace)";
        return EINVAL;
    }
    err = netns_socket(d->netns, domain, type, proto, &scratch);
    if (err) {
        *failed = err == EPERM    ? "netns (setns needs CAP_SYS_ADMIN)"
                  : err == ENOENT ? "netns (no such namespace)"
                                  : "netns";
        return err;
    }
    return dial_swap(fd, scratch, domain);
}

#define TRY(opt, expr)                                                                             \
    do {                                                                                           \
        int e_ = (expr);                                                                           \
        if (e_) {                                                                                  \
            *failed = (opt);                                                                       \
            return e_;                                                                             \
        }                                                                                          \
    } while (0)

HOT_PATH int sockopt_apply(const struct conf_dialer *d, int fd, int family, int type,
                           const char **failed)
{
    bool has_bind =
        (family == AF_INET && d->has_inet4_bind) || (family == AF_INET6 && d->has_inet6_bind);
    int err;

    /* first: every other option goes on the socket of the other namespace */
    if (d->netns[0] && (err = enter_netns(d, fd, failed)))
        return err;
    if (d->protect_path[0])
        TRY("protect_path",
            protect(d->protect_path, fd, d->connect_timeout_ms ? d->connect_timeout_ms : 5000));
    if (d->bind_interface[0])
        TRY("bind_interface", sys.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, d->bind_interface,
                                             strlen(d->bind_interface) + 1) < 0
                                  ? errno
                                  : 0);
    if (d->has_mark)
        TRY("routing_mark", set_int(fd, SOL_SOCKET, SO_MARK, (int)d->routing_mark));
    if (d->reuse_addr) {
        TRY("reuse_addr", set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1));
        if (type == SOCK_DGRAM)
            TRY("reuse_addr", set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1));
    }
    if (type == SOCK_STREAM && (err = keep_alive(d, fd, failed)))
        return err;
    if (d->ip_transparent && (err = transparent(fd, family, failed)))
        return err;
    if (type == SOCK_STREAM && d->tcp_fast_open)
        TRY("tcp_fast_open", set_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1));
    if (type == SOCK_DGRAM && d->udp_fragment != TRI_UNSET) {
        int v = d->udp_fragment == TRI_FALSE ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
        if (family == AF_INET6)
            TRY("udp_fragment", set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, v));
        else
            TRY("udp_fragment", set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, v));
    }
    if (has_bind) {
        /* Without this, bind() to port 0 reserves an ephemeral port before the
         * destination is known, and busy clients run out of ports. */
        if (d->bind_address_no_port && type == SOCK_STREAM)
            TRY("bind_address_no_port", set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1));
        err = bind_source(d, fd, family);
        if (err == EADDRNOTAVAIL && !d->ip_transparent)
            TRY(family == AF_INET ? "inet4_bind_address (not an address of this host; "
                                    "ip_transparent = true allows that)"
                                  : "inet6_bind_address (not an address of this host; "
                                    "ip_transparent = true allows that)",
                err);
        TRY(family == AF_INET ? "inet4_bind_address" : "inet6_bind_address", err);
    }
    return 0;
}
