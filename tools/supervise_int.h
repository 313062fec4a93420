/* supervise_int: what the supervisor's files share (supervise.c: start, filter,
 * wait; supervise_pool.c: the workers; supervise_notify.c: the notifications;
 * supervise_arch.c: a call of another architecture decoded; supervise_call.c
 * and supervise_send.c: the calls made on the program's behalf;
 * supervise_udp.c: datagrams through a proxy's UDP ASSOCIATE; supervise_dns.c:
 * the DNS responder). Nothing else includes it (but the unit test of
 * supervise_arch.c).
 *
 * Promise: `sup` is written before the first worker starts and only read after.
 */
#ifndef DIALSHIM_TOOLS_SUPERVISE_INT_H
#define DIALSHIM_TOOLS_SUPERVISE_INT_H

#include "common/dialer/dialer.h"
#include "common/fakeip.h"
#include "common/log.h"
#include "common/route.h"
#include "tools/seccomp_compat.h"

#include <linux/seccomp.h>
#include <time.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct sup {
    int listener;           /* the seccomp notification descriptor (O_CLOEXEC) */
    pid_t child;            /* the program */
    const char *forced_app; /* -p APP: every program's app */
    uint32_t native_arch;   /* the supervisor's AUDIT_ARCH_* (libseccomp's SCMP_ARCH_*) */
    bool one_app;           /* every program's app is the command's */
    char top_exe[4096];     /* the command's file, symbolic links resolved */
};
extern struct sup sup;

/* Start the notification workers (supervise_pool.c). 0 or an errno. */
int sup_workers_start(void);
/* Serve one trapped call and answer it (supervise_notify.c). */
void sup_serve(const struct seccomp_notif *n);

/* The call being served may wait on the network: another worker receives the
 * next calls meanwhile (supervise_pool.c). Called before the wait; the calls
 * that never wait are served without waking another thread. */
void sup_handoff(void);
/* Before dialing D for T's connect: sup_handoff unless the dial is a direct
 * connect that completes within the call (loopback, or a non-blocking socket). */
struct trap;
void sup_before_dial(const struct trap *t, const struct dial *d);
/* The dialers' waits (sys.poll, sys.ppoll) watch the listener too, their
 * dup3 is seen (before any thread). */
void sup_hook_waits(void);
/* The dial since sup_before_dial put a new socket at FD (this thread's). */
bool sup_replaced(int fd);

/* Start the DNS responder on loopback, with sockets for each app of C whose
 * names are answered here (supervise_dns.c). 0 or an errno. */
int sup_dns_start(const struct conf *c);

/* A name under APP may be answered with a fake address (remote_dns, fake_ip):
 * the program's DNS must reach the responder, never a server. */
bool sup_names_here(const struct conf *c, int app);
/* ... under some app of C. */
bool sup_names_anywhere(const struct conf *c);

/* The responder's address for APP's DNS over UDP or TCP, in a socket of FAMILY
 * (an IPv6 socket may get IPv4 loopback v4-mapped): false when APP's names are
 * not answered here (its DNS follows its route). */
bool sup_dns_addr(int app, bool tcp, int family, struct sockaddr_storage *to, socklen_t *tolen);

/* One trapped call, with what the notification carries and the program's
 * socket taken into the supervisor (supervise_call.c). */
struct trap {
    const struct seccomp_notif *n;
    int nr;        /* the call, as x86-64 (the build's arch) numbers it */
    uint64_t a[6]; /* its arguments (an i386 socketcall's read from memory) */
    bool compat;   /* an i386 call: msghdr, iovec, mmsghdr, cmsghdr in 32-bit layout */
    pid_t tid;
    int fd;        /* the duplicate of the program's socket */
    int domain;    /* its SO_DOMAIN */
    int type;      /* its SO_TYPE */
    int proto;     /* its SO_PROTOCOL (IPPROTO_TCP for MPTCP too) */
    bool busy;     /* a TCP socket not CLOSE (tcp_busy, as read on arrival) */
    int app;       /* the calling program's [app] (sup_app_of) */
    char prog[64]; /* and its name, for the log */
};

/* The [app] of the program thread TID runs (supervise.c): matched by its own
 * executable as the shim would in it, else inheriting the supervised command's. */
int sup_app_of(pid_t tid, char *prog, size_t cap);

/* T->nr, T->a and T->compat for notification N (supervise_arch.c): 0, or the
 * errno to answer (a call of an architecture not handled, logged). */
int sup_decode(const struct seccomp_notif *n, struct trap *t);

/* The structures a call points to, in the program's layout (32-bit for an
 * i386 program: supervise_arch.c), read as native ones. 0 or an errno. */
int sup_read_msghdr(const struct trap *t, uint64_t at, struct msghdr *m);
/* K (at most 64) iovecs at AT. */
int sup_read_iov(const struct trap *t, uint64_t at, struct iovec *iov, size_t k);
/* A struct mmsghdr's size, and where its msg_len is. */
size_t sup_mmsg_size(const struct trap *t);
size_t sup_mmsg_len_at(const struct trap *t);
/* Control messages IN (LEN bytes, the program's layout) as native ones in OUT
 * (CAP bytes): 0 with *OUTLEN, EINVAL (a malformed header) or ENOBUFS. */
int sup_control_native(const struct trap *t, const char *in, size_t len, char *out, size_t cap,
                       size_t *outlen);

/* What to answer: a value, an errno, or CONTINUE (the call runs unchanged). */
struct verdict {
    int64_t val;
    int err;
    bool cont;
};

/* Read LEN bytes at ADDR in the trapped thread's memory. 0 or an errno
 * (EPERM for a target we may not read: the caller refuses the call). */
int sup_read(pid_t tid, uint64_t addr, void *out, size_t len);
/* Write LEN bytes to ADDR in its memory. 0 or an errno. */
int sup_write(pid_t tid, uint64_t addr, const void *in, size_t len);
/* The notification is still pending (the thread waits in the call). */
bool sup_valid(uint64_t id);

#ifndef AF_SMC
#define AF_SMC 43
#endif

/* An AF_INET or AF_INET6 socket. */
static inline bool is_ip(const struct trap *t)
{
    return t->domain == AF_INET || t->domain == AF_INET6;
}

/* A socket that reaches inet addresses: IP, and AF_SMC (shared-memory
 * communications, which connects to inet addresses and falls back to TCP when
 * the peer has none). An AF_SMC socket is neither TCP nor UDP here: routed like
 * the other inet kinds (direct routes only). */
static inline bool is_inet(const struct trap *t)
{
    return is_ip(t) || t->domain == AF_SMC;
}

static inline bool is_tcp(const struct trap *t)
{
    return is_ip(t) && t->type == SOCK_STREAM &&
           (t->proto == 0 || t->proto == IPPROTO_TCP || t->proto == 262);
}

static inline bool is_udp(const struct trap *t)
{
    return is_ip(t) && t->type == SOCK_DGRAM && (t->proto == 0 || t->proto == IPPROTO_UDP);
}

/* SA (LEN bytes at ADDR of the program) into SS: 0, or the errno to answer
 * (EPERM, logged: we may not read the program; never let the call through). */
int read_sockaddr(const struct trap *t, uint64_t addr, socklen_t len, struct sockaddr_storage *ss);

/* TCP socket FD is not CLOSE: a connect can only be answered, nothing new leaves. */
bool tcp_busy(int fd);

/* A destination routed for T: R->d ready to dial (by name for a fake address). */
struct route {
    struct dial d;
    struct dest dst;
    int rule;
    char name[FAKEIP_NAME_MAX];
    struct timespec t0;
};

/* Route SA: 0, or EHOSTUNREACH for a fake address that stands for no name. */
int route(const struct trap *t, const struct sockaddr *sa, socklen_t len, int type,
          struct route *r);

/* One decision line, as the shim's, marked "supervised". */
void log_dial(enum log_level l, const struct trap *t, const char *call, const struct dial *d,
              int rule, int err, const struct timespec *t0);

/* dgram_to and send_to: the datagram goes through the proxy's UDP ASSOCIATE,
 * routed in *R (sup_udp_connect, sup_udp_send). */
#define SUP_RELAY (-1)

/* Where a datagram (or a UDP connect) to SA goes: *TO, SUP_RELAY, or an errno
 * (logged). R gets the route. */
int dgram_to(const struct trap *t, const char *call, const struct sockaddr *sa, socklen_t len,
             struct sockaddr_storage *to, socklen_t *tolen, struct route *r);

/* The destination SA of a send with FLAGS on T (supervise_send.c): *TO to send
 * to (*TOLEN 0: none, the socket's peer), or an errno to answer. */
int send_to(const struct trap *t, const char *call, const struct sockaddr *sa, socklen_t len,
            int flags, struct sockaddr_storage *to, socklen_t *tolen, struct route *r);

/* getpeername of T's socket FD answers SA from now on (supervise_call.c). */
void sup_peer_note(int fd, const struct sockaddr *sa, socklen_t len);

/* UDP through a SOCKS5 proxy (supervise_udp.c), the association held by the
 * supervisor on sockets of its own, the program's socket connected to its
 * loopback end. The connect of T's socket to SA as R routed it: 0 or an errno. */
int sup_udp_connect(const struct trap *t, struct route *r, const struct sockaddr *sa,
                    socklen_t len);
/* A datagram M (M->msg_name, routed in R) of T's socket: the bytes sent or -errno. */
ssize_t sup_udp_send(const struct trap *t, struct route *r, const struct msghdr *m, int flags);

/* The kernel would have sent SIGPIPE to the program's thread; ours is ignored. */
void sigpipe(const struct trap *t, int err, int flags);

/* The calls (supervise_call.c: connect; supervise_send.c: the sends), each done on T->fd and
 * answered in V. */
void sup_connect(const struct trap *t, struct verdict *v);
void sup_sendto(const struct trap *t, struct verdict *v);
void sup_sendmsg(const struct trap *t, struct verdict *v);
void sup_sendmmsg(const struct trap *t, struct verdict *v);
void sup_getpeername(const struct trap *t, struct verdict *v);

#endif
