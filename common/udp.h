/* udp: the program's UDP sockets through SOCKS5 UDP ASSOCIATE (RFC 1928 section 7,
 * dialshim.ini(5) udp).
 *
 * An association belongs to one program socket (its descriptor number, and the numbers
 * dup/dup2/dup3/F_DUPFD made of it: they are the same socket): a control
 * TCP connection to each proxy of the chain (close-on-exec, ours alone), the relay
 * address the first proxy gave, and the headers that address the next relays
 * (a chain of SOCKS5 proxies nests its associations). The program's own socket
 * carries the wrapped datagrams to the first relay and receives from it, so
 * poll/epoll on it keep working.
 *
 * Promise: a datagram of an associated socket never leaves unwrapped for a
 * destination routed to the proxy. When a control connection ends, the association
 * is dead: every later wrapped send fails with ECONNRESET, nothing goes direct. The
 * receive side hands the program the exact payload and the real peer (a name the
 * proxy gives becomes its fake address), with the kernel's truncation semantics;
 * malformed or fragmented datagrams are dropped. Sockets without an association
 * pay one fdtab_get() in the hooks and never reach this module. The table of
 * associations is process-wide, guarded by one mutex that is never held across a
 * system call that can block; fork-safe (pthread_atfork, registered on first use).
 */
#ifndef DIALSHIM_UDP_H
#define DIALSHIM_UDP_H

#include "common/dialer/dialer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define UDP_MAX_HOPS 4 /* SOCKS5 proxies one datagram may cross (nested associations) */

/* Where one datagram goes, as the SOCKS5 header names it. */
struct udp_target {
    const char *host;          /* a name for the proxy to resolve (remote_dns), or NULL */
    const struct sockaddr *sa; /* the address when HOST is NULL */
    uint16_t port;             /* host order */
    /* What the program called the peer (a fake address stands for HOST): replies
     * from it are reported as coming from here. NULL: SA. */
    const struct sockaddr *view;
    socklen_t view_len;
};

/* Whether datagrams routed to DIALER can travel by UDP ASSOCIATE: 0, or EPERM with
 * the reason in WHY (udp = block, a SOCKS4/HTTP hop, a chain too long). */
int udp_chain_check(const struct conf *c, int dialer, char *why, size_t whycap);

/* Make sure D->fd has an association through D->dialer: reuse its own, or open one
 * within the dialer's connect_timeout, applying the first hop's options to D->fd
 * (D->applied as in struct dial). Returns 0 (*CREATED tells a new one) or an errno
 * with the reason in D->why. EPERM when the socket already relays through another
 * dialer. */
int udp_associate(struct dial *d, bool *created);

/* connect(2) of a UDP socket routed to a SOCKS5 dialer: associate, then connect
 * D->fd to the relay (only the relay's datagrams reach it) and remember the peer
 * (D->host or D->sa). Returns 0 or an errno. */
int udp_dial(struct dial *d);

/* What the program calls its connected peer (the fake address it connected to). */
void udp_set_view(int fd, const struct sockaddr *sa, socklen_t len);

/* getpeername(2) of a socket connected through the relay: the peer the program
 * connected to (not the relay). False when FD has no such peer. */
bool udp_peer(int fd, struct sockaddr *sa, socklen_t *len);

/* The socket no longer has a connected peer through the relay (a new connect). */
void udp_forget_peer(int fd);

/* The dialer FD's association goes through, or -1 when it has none. */
int udp_assoc_dialer(int fd);

/* A datagram of FD (which has an association) to T, or to the connected peer when
 * T is NULL. Returns what sendmsg(2) would: the payload's length or -1 with errno.
 * A socket with no connected peer and T NULL goes to the kernel as it is. */
ssize_t udp_send(int fd, const struct msghdr *msg, int flags, const struct udp_target *t);

/* recvmsg(2) on FD (which has an association): the next datagram the program may
 * see, unwrapped. */
ssize_t udp_recv(int fd, struct msghdr *msg, int flags);

/* The program closes FD: end its association (the control connections close once
 * no other descriptor holds it and no other thread is inside a call on it). */
void udp_close(int fd);

/* Room in the table for descriptor FD, taken before dup2/dup3 makes FD a copy, so
 * sharing cannot fail after the kernel has closed what FD was. 0 or ENOMEM. */
int udp_reserve(int fd);

/* NEWFD was just made a duplicate of OLDFD: it shares OLDFD's association, if any
 * (what NEWFD held before ends as on close). 0, or ENOMEM (NEWFD then has none). */
int udp_dup(int oldfd, int newfd);

/* One line for `dialshim explain ... udp HOST PORT`: what a datagram routed to
 * DIALER does, and for port 53 where DNS queries leave from. */
void udp_explain(const struct conf *c, int dialer, uint16_t port, char *buf, size_t cap);

/* ---- Internal, exposed for the unit tests. ---- */

/* Strip NHOPS nested SOCKS5 UDP headers from the BUF (LEN bytes): returns the
 * payload offset and the innermost source in *SRC, or -1 (malformed, fragment). */
int udp_unwrap(const uint8_t *buf, size_t len, int nhops, struct proto_addr *src);

/* The datagram's bytes from HDR_CAP on were received into the program's iovecs
 * (IOV, N; CAP bytes in all), the first HDR_CAP into HDR: move the payload, which
 * starts at OFF (<= HDR_CAP) of the datagram, to the start of the iovecs. COPY
 * bytes (<= CAP, and present) are moved. Returns 0, or -1 when a multi-iovec
 * move needs memory and there is none. */
int udp_place_payload(const uint8_t *hdr, size_t hdr_cap, size_t off, const struct iovec *iov,
                      size_t n, size_t copy);

#endif
