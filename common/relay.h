/* relay: the program's UDP sockets that carry SOCKS5 UDP ASSOCIATE datagrams
 * (RFC 1928 section 7, dialshim.ini(5) udp): the per-socket table of associations
 * and the datagrams wrapped for the relay and unwrapped from it.
 *
 * An association belongs to one program socket (its descriptor number, and the numbers
 * dup/dup2/dup3/F_DUPFD made of it: they are the same socket): a control
 * TCP connection to each proxy of the chain (close-on-exec, ours alone), the relay
 * address the first proxy gave, and the headers that address the next relays
 * (a chain of SOCKS5 proxies nests its associations). The program's own socket
 * carries the wrapped datagrams to the first relay and receives from it, so
 * poll/epoll on it keep working. Opening one is a dialer's work
 * (common/dialer/associate.c); this module keeps what it opened.
 *
 * An association may be recorded before it is opened (relay_attach: a connect
 * names the peer, the first datagram opens the chain in place): programs connect
 * UDP sockets only to learn a source address and never send on them. Until it
 * is opened the socket hears nothing through it and sends nothing: the engine
 * opens it first (relay_waiting, relay_open_begin/relay_open_end).
 *
 * Promise: a datagram of an associated socket never leaves unwrapped for a
 * destination routed to the proxy (nor at all, while the association is not opened). When a control
 * connection ends, the association is dead: every later wrapped send fails with ECONNRESET, nothing
 * goes direct. The receive side hands the program the exact payload and the real peer (a name the
 * proxy gives becomes its fake address), with the kernel's truncation semantics;
 * malformed or fragmented datagrams are dropped. The module reads no configuration
 * (of `state` only the program's name, for log lines, and never on the receive path):
 * what the receive path must decide about a datagram from elsewhere than the relay
 * is the caller's answer (struct relay_rx). Sockets without an association pay one
 * fdtab_get() in the hooks and never reach this module. The table of associations
 * is process-wide, guarded by one mutex that is never held across a system call that
 * can block; fork-safe (pthread_atfork, registered on first use). A datagram sent
 * or received allocates only when the program spreads it over several iovecs.
 */
#ifndef DIALSHIM_RELAY_H
#define DIALSHIM_RELAY_H

#include "common/proto/socks5.h"
#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define RELAY_MAX_HOPS 4 /* SOCKS5 proxies one datagram may cross (nested associations) */
#define RELAY_HDR_CAP  (RELAY_MAX_HOPS * SOCKS5_UDP_HEADER_MAX)

/* Where one datagram goes, as the SOCKS5 header names it. */
struct relay_target {
    const char *host;          /* a name for the proxy to resolve (remote_dns), or NULL */
    const struct sockaddr *sa; /* the address when HOST is NULL */
    uint16_t port;             /* host order */
    /* What the program called the peer (a fake address stands for HOST): replies
     * from it are reported as coming from here. NULL: SA. */
    const struct sockaddr *view;
    socklen_t view_len;
};

/* An association as its dialer opened it. */
struct relay_chain {
    int family;                              /* the program socket's */
    int dialer;                              /* the route's dialer: the last proxy */
    int n;                                   /* proxies crossed */
    int ctl[RELAY_MAX_HOPS];                 /* their control connections (ownfd_adopt'ed) */
    char name[CONF_NAME_MAX];                /* the route dialer's name, for logs */
    char hop[RELAY_MAX_HOPS][CONF_NAME_MAX]; /* each proxy's */
    struct sockaddr_storage relay;           /* p0's relay, in the socket's family */
    socklen_t relay_len;
    uint8_t prefix[RELAY_HDR_CAP]; /* the headers addressing the relays of p1..pN */
    size_t prefix_len;
};

/* A new, empty association for a dialer to fill (ctl[] all -1): the control
 * connections are adopted (ownfd_adopt) in place, so it never moves. NULL without
 * memory. */
struct relay_chain *relay_chain_new(void);

/* An association that was not added: its open control connections closed (each
 * only while its number still names it), its memory freed. */
void relay_chain_free(struct relay_chain *ch);

/* CH's control connections closed and its proxies forgotten (dialer, family and
 * name kept): to be filled again, from its first hop. */
void relay_chain_reset(struct relay_chain *ch);

/* FD (a descriptor number of the program's socket) now relays through CH (from
 * relay_chain_new), which the table takes: the control connections close with the
 * association. Logged with LOCAL, the socket's address. 0; EEXIST when FD got an
 * association meanwhile (another thread) or ENOMEM: CH stays the caller's. */
int relay_add(int fd, struct relay_chain *ch, const struct sockaddr_storage *local);

/* FD (a UDP socket a connect routed to DIALER, named NAME) gets an association
 * that is not opened yet: no control connection, nothing sent or heard through
 * it until relay_open_begin/relay_open_end fill it. 0, EEXIST (FD has one), ENOMEM. */
int relay_attach(int fd, int dialer, int family, const char *name);

/* The dialer FD's association goes through, or -1 when it has none; *OPENED
 * whether its chain is open. */
int relay_state(int fd, bool *opened);

/* The dialer FD's opened association goes through, or -1 (none, or not opened). */
int relay_dialer(int fd);

/* The dialer of FD's association when it is connected to a peer through it and
 * not opened yet (its first datagram must open it), else -1. */
int relay_waiting(int fd);

/* Open FD's recorded association in place: 0 with *CH to fill (relay_chain's
 * fields; a thread at a time, the others wait here) and to hand to relay_open_end;
 * EEXIST when it is open already; ENOENT when FD has none through DIALER. */
int relay_open_begin(int fd, int dialer, struct relay_chain **ch);

/* The filling of CH (from relay_open_begin) ended with ERR: 0 makes the
 * association open (logged with LOCAL, the socket's address) and connects FD to
 * the relay when it has a peer through it; an error empties CH for the next try.
 * Returns ERR, or the errno of that connect (the association is then dead). */
int relay_open_end(int fd, struct relay_chain *ch, int err, const struct sockaddr_storage *local);

/* FD, which has an association, is connected to the relay (only the relay's
 * datagrams reach it; an association not opened yet: the caller has held the
 * socket where it hears nothing) and T becomes its peer. Returns 0 or an errno
 * (EBADF: FD has no association). */
int relay_connect(int fd, const struct relay_target *t);

/* What the program calls its connected peer (the fake address it connected to). */
void relay_set_view(int fd, const struct sockaddr *sa, socklen_t len);

/* getpeername(2) of a socket connected through the relay: the peer the program
 * connected to (not the relay). False when FD has no such peer. */
bool relay_peer(int fd, struct sockaddr *sa, socklen_t *len);

/* The socket no longer has a connected peer through the relay (a new connect). */
void relay_forget_peer(int fd);

/* A datagram of FD (which has an association) to T, or to the connected peer when
 * T is NULL. Returns what sendmsg(2) would: the payload's length or -1 with errno.
 * A socket with no connected peer and T NULL goes to the kernel as it is. */
ssize_t relay_send(int fd, const struct msghdr *msg, int flags, const struct relay_target *t);

/* What the receive path takes from its caller instead of the configuration. */
struct relay_rx {
    const char *prog; /* the program, for a refusal's log line */
    /* Whether a datagram from FROM, which did not come through the relay, reaches the
     * program (a peer the route sends to directly: a socket may mix both); NULL: none. */
    bool (*direct)(const struct sockaddr *from);
};

/* recvmsg(2) on FD (which has an association): the next datagram the program may
 * see, unwrapped. */
ssize_t relay_recv(int fd, struct msghdr *msg, int flags, const struct relay_rx *rx);

/* The program closes FD: end its association (the control connections close once
 * no other descriptor holds it and no other thread is inside a call on it). */
void relay_close(int fd);

/* Room in the table for descriptor FD, taken before dup2/dup3 makes FD a copy, so
 * sharing cannot fail after the kernel has closed what FD was. 0 or ENOMEM. */
int relay_reserve(int fd);

/* NEWFD was just made a duplicate of OLDFD: it shares OLDFD's association, if any
 * (what NEWFD held before ends as on close). 0, or ENOMEM (NEWFD then has none). */
int relay_dup(int oldfd, int newfd);

/* ---- Internal, exposed for the unit tests. ---- */

/* The datagram's bytes from HDR_CAP on were received into the program's iovecs
 * (IOV, N; CAP bytes in all), the first HDR_CAP into HDR: move the payload, which
 * starts at OFF (<= HDR_CAP) of the datagram, to the start of the iovecs. COPY
 * bytes (<= CAP, and present) are moved. Returns 0, or -1 when a multi-iovec
 * move needs memory and there is none. */
int relay_place_payload(const uint8_t *hdr, size_t hdr_cap, size_t off, const struct iovec *iov,
                        size_t n, size_t copy);

#endif
