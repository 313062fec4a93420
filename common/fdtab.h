/* fdtab: what the shim knows about each socket descriptor of the process.
 *
 * Promise: one word per descriptor number in a table reserved once (pages are
 * touched only for numbers in use), read and written with relaxed atomics: no
 * lock, no allocation after fdtab_init(). The shim records a socket's kind when
 * its socket() hook creates it and forgets it in close(); a number it knows
 * nothing about reads FD_UNKNOWN and the caller asks the kernel (SO_TYPE).
 */
#ifndef DIALSHIM_FDTAB_H
#define DIALSHIM_FDTAB_H

#include <stdint.h>

enum fd_kind { FD_UNKNOWN = 0, FD_TCP = 1, FD_UDP = 2, FD_OTHER = 3 };

#define FD_KIND_MASK 3u
#define FD_APPLIED   4u /* the options of the dialer in FD_DIALER_MASK are set */
/* a refusal of this socket's datagrams was logged: one line per socket, not per datagram */
#define FD_BLOCK_LOGGED 8u
#define FD_ENGINE       16u /* dialed through a proxy or a name: every connect goes to the engine */
/* UDP with a SOCKS5 association (common/relay.h): every send and receive goes to the engine */
#define FD_ASSOC 32u
/* TCP made IPv6 under a program that made it IPv4 (common/family.h): getpeername and
 * getsockname answer in IPv4 */
#define FD_FAMILY 64u
/* UDP whose DNS queries the shim answers (common/dnswire.h): sends, receives and
 * getpeername go to the engine */
#define FD_DNS 128u
/* A non-blocking dial in flight on a driver thread (common/pending.h): reads and
 * writes give EAGAIN, connect EALREADY; one load on the I/O hooks' fast path */
#define FD_PENDING 256u
/* The engine keeps a record of the dial (common/pending.h): the destination for
 * getpeername, a failed dial's errno to report once */
#define FD_DIALED 512u
/* The program registered the socket with epoll: the registrations are recorded
 * (common/pending.h), to be hidden while a dial is pending and made again after */
#define FD_EPOLL 1024u
/* TCP made by the socket() hook whose SO_SNDTIMEO the program never set (the
 * setsockopt hook clears it): a blocking socket's dial need not ask the kernel
 * for a send timeout to honour (common/engine.c) */
#define FD_NO_SNDTIMEO 2048u
/* TCP copied (dup, dup2, dup3, F_DUPFD) before the engine kept a record of it:
 * a dial that starts looks for the socket's other numbers (common/pending.c) */
#define FD_COPIED 4096u
/* TCP (not MPTCP) made by the socket() hook without SOCK_NONBLOCK whose file
 * status flags the program has not set since (fcntl F_SETFL, ioctl FIONBIO, a
 * copy of the number): a dial takes it for blocking without asking the kernel,
 * and connects it as it is, the watchdog bounding the call (common/watchdog.h).
 * No flag is put back on its word: taken wrongly, the connect returns
 * EINPROGRESS as the kernel's would (common/dialer/firsthop.c, default.c). */
#define FD_BLOCKING (1u << 13)
/* A blocking connect on this number is bounded by the watchdog (common/watchdog.h):
 * when the number goes, the watchdog must not shut down what it holds next. */
#define FD_WATCHED (1u << 14)
/* Not an AF_INET/AF_INET6 socket (a socketpair, an inherited unix socket): the
 * engine passes its calls untouched. With kind FD_OTHER. */
#define FD_FOREIGN (1u << 15)
/* The number has state elsewhere in the shim's memory (an association, a pin, a
 * record, the IPv4 view, DNS answers): a vfork child's close or dup2 leaves it
 * alone (common/owner.h), the one getpid() asked only for such numbers. */
#define FD_STATE                                                                                   \
    (FD_ENGINE | FD_ASSOC | FD_FAMILY | FD_DNS | FD_PENDING | FD_DIALED | FD_EPOLL | FD_WATCHED)
/* Which dialer's options the socket carries (common/applied.h): its index + 1, 0 = none. */
#define FD_DIALER_SHIFT 16
#define FD_DIALER_MASK  (0xfffu << FD_DIALER_SHIFT)

/* Reserve the table (idempotent). Returns 0 or an errno; without a table every
 * lookup reads FD_UNKNOWN. */
int fdtab_init(void);

/* The table's words and length (fdtab.c's; only fdtab_get reads them outside):
 * the lookup is inline, as every hook makes several. */
extern uint32_t *fdtab_words;
extern unsigned long fdtab_len;

static inline uint32_t fdtab_get(int fd)
{
    uint32_t *t = __atomic_load_n(&fdtab_words, __ATOMIC_ACQUIRE);

    if (!t || fd < 0 || (unsigned long)fd >= fdtab_len)
        return FD_UNKNOWN;
    return __atomic_load_n(&t[fd], __ATOMIC_RELAXED);
}

void fdtab_set(int fd, uint32_t v);

/* Set / clear the bits BITS of FD's word in one atomic step: two threads marking
 * the same socket (a datagram's options, an association) never lose a bit the
 * other set, as fdtab_set(fd, fdtab_get(fd) | x) could. Return the old word. */
uint32_t fdtab_or(int fd, uint32_t bits);
uint32_t fdtab_and(int fd, uint32_t mask);

/* Replace the bits CLEAR of FD's word by SET in one atomic step. Returns the old word. */
uint32_t fdtab_update(int fd, uint32_t clear, uint32_t set);

/* The highest number ever given a non-zero word (-1: none): a scan of the table
 * (close_range) stops there instead of at the end of the reservation. */
int fdtab_high(void);

#endif
