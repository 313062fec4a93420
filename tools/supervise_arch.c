/* The trapped call as the supervisor serves it, whatever the program's
 * architecture: x86-64's number and six arguments (struct trap's nr and a[]).
 *
 * An i386 program (on an x86-64 kernel with IA32 emulation) makes its socket
 * calls either through the socketcall(2) multiplexer (syscall 102: the call's
 * number in the first argument, its arguments as an array of 32-bit words in
 * the program's memory; Go's linux/386 and older libcs) or by the direct i386
 * calls (connect 362, getpeername 368, sendto 369, sendmsg 370, sendmmsg 345;
 * newer libcs). Both are decoded here; the structures they point to are read in
 * their 32-bit layout by the calls (struct trap's compat).
 *
 * socketcall's argument array is memory the program can change after it is
 * read: the supervisor makes every call on an inet socket itself from the copy
 * it read, as for every other memory (supervise_call.c); a call it lets
 * continue (a unix socket's) is read again by the kernel, so a program could
 * swap the descriptor in the array meanwhile: the same self-attack as the dup2
 * race described there.
 *
 * A call of an architecture not handled (x32: x86-64's numbers with bit 30 set)
 * is refused with EPERM and a log line: it never runs unrouted. */
#include "common/log.h"
#include "common/state.h"
#include "tools/supervise_int.h"

#include <errno.h>
#include <linux/audit.h>
#include <string.h>
#include <sys/syscall.h>

#define X32_BIT 0x40000000

#define I386_SOCKETCALL  102
#define I386_SENDMMSG    345
#define I386_CONNECT     362
#define I386_GETPEERNAME 368
#define I386_SENDTO      369
#define I386_SENDMSG     370

/* socketcall's call numbers (linux/net.h) */
#define SC_CONNECT     3
#define SC_GETPEERNAME 7
#define SC_SENDTO      11
#define SC_SENDMSG     16
#define SC_SENDMMSG    20

/* The x86-64 call an i386 direct call or socketcall number stands for, and how
 * many arguments it takes; -1 for none of ours. */
static int native_of(int nr, int *nargs)
{
    switch (nr) {
    case I386_CONNECT:
    case -SC_CONNECT:
        *nargs = 3;
        return SYS_connect;
    case I386_GETPEERNAME:
    case -SC_GETPEERNAME:
        *nargs = 3;
        return SYS_getpeername;
    case I386_SENDTO:
    case -SC_SENDTO:
        *nargs = 6;
        return SYS_sendto;
    case I386_SENDMSG:
    case -SC_SENDMSG:
        *nargs = 3;
        return SYS_sendmsg;
    case I386_SENDMMSG:
    case -SC_SENDMMSG:
        *nargs = 4;
        return SYS_sendmmsg;
    default:
        return -1;
    }
}

static int refuse(const struct seccomp_notif *n, const char *what)
{
    log_warn("%s[%d] supervised: %s (architecture %#x, call %d) cannot be routed: refused with "
             "EPERM",
             state.prog, (int)n->pid, what, n->data.arch, n->data.nr);
    return EPERM;
}

/* An i386 call: socketcall's arguments read from the program's memory, the
 * direct calls' from the registers (their low 32 bits). */
static int decode_i386(const struct seccomp_notif *n, struct trap *t)
{
    uint32_t words[6];
    int nargs = 0, err;

    t->compat = true;
    if (n->data.nr != I386_SOCKETCALL) {
        if ((t->nr = native_of(n->data.nr, &nargs)) < 0)
            return refuse(n, "an i386 call the filter should not have trapped");
        for (int i = 0; i < 6; i++)
            t->a[i] = (uint32_t)n->data.args[i];
        return 0;
    }
    if ((t->nr = native_of(-(int)(uint32_t)n->data.args[0], &nargs)) < 0)
        return refuse(n, "an i386 socketcall the filter should not have trapped");
    if ((err = sup_read(t->tid, (uint32_t)n->data.args[1], words, (size_t)nargs * 4)))
        return err == EFAULT ? EFAULT : EPERM;
    memset(t->a, 0, sizeof(t->a));
    for (int i = 0; i < nargs; i++)
        t->a[i] = words[i];
    return 0;
}

int sup_decode(const struct seccomp_notif *n, struct trap *t)
{
    if (n->data.arch == sup.native_arch) {
        if (n->data.arch == AUDIT_ARCH_X86_64 && (n->data.nr & X32_BIT))
            return refuse(n, "an x32 program's socket call");
        t->nr = n->data.nr;
        memcpy(t->a, n->data.args, sizeof(t->a));
        return 0;
    }
    if (n->data.arch == AUDIT_ARCH_I386 && sup.native_arch == AUDIT_ARCH_X86_64)
        return decode_i386(n, t);
    return refuse(n, "a socket call of another architecture");
}

/* ---- the structures of an i386 program, in their 32-bit layout ---- */

struct msghdr32 {
    uint32_t name, namelen, iov, iovlen, control, controllen;
    int32_t flags;
};

struct cmsghdr32 {
    uint32_t len;
    int32_t level, type;
};

#define CMSG32_ALIGN(n) (((n) + 3u) & ~3u)

int sup_read_msghdr(const struct trap *t, uint64_t at, struct msghdr *m)
{
    struct msghdr32 m32;
    int err;

    if (!t->compat)
        return sup_read(t->tid, at, m, sizeof(*m));
    if ((err = sup_read(t->tid, at, &m32, sizeof(m32))))
        return err;
    *m = (struct msghdr){.msg_name = (void *)(uintptr_t)m32.name,
                         .msg_namelen = m32.namelen,
                         .msg_iov = (struct iovec *)(uintptr_t)m32.iov,
                         .msg_iovlen = m32.iovlen,
                         .msg_control = (void *)(uintptr_t)m32.control,
                         .msg_controllen = m32.controllen,
                         .msg_flags = m32.flags};
    return 0;
}

int sup_read_iov(const struct trap *t, uint64_t at, struct iovec *iov, size_t k)
{
    uint32_t pairs[2 * 64];
    int err;

    if (!t->compat)
        return sup_read(t->tid, at, iov, k * sizeof(*iov));
    if (k > 64)
        return EINVAL;
    if ((err = sup_read(t->tid, at, pairs, k * 8)))
        return err;
    for (size_t i = 0; i < k; i++)
        iov[i] = (struct iovec){(void *)(uintptr_t)pairs[2 * i], pairs[2 * i + 1]};
    return 0;
}

size_t sup_mmsg_size(const struct trap *t)
{
    return t->compat ? sizeof(struct msghdr32) + 4 : sizeof(struct mmsghdr);
}

size_t sup_mmsg_len_at(const struct trap *t)
{
    return t->compat ? sizeof(struct msghdr32) : offsetof(struct mmsghdr, msg_len);
}

int sup_control_native(const struct trap *t, const char *in, size_t len, char *out, size_t cap,
                       size_t *outlen)
{
    size_t off = 0, o = 0;

    if (!t->compat) {
        if (len > cap)
            return ENOBUFS;
        memcpy(out, in, len);
        *outlen = len;
        return 0;
    }
    while (off + sizeof(struct cmsghdr32) <= len) {
        struct cmsghdr32 h;
        struct cmsghdr *c = (struct cmsghdr *)(out + o);
        size_t data;
        memcpy(&h, in + off, sizeof(h));
        if (h.len < sizeof(h) || h.len > len - off)
            return EINVAL; /* as the kernel: a header that does not fit */
        data = h.len - sizeof(h);
        if (o + CMSG_SPACE(data) > cap)
            return ENOBUFS;
        memset(c, 0, CMSG_SPACE(data));
        c->cmsg_len = CMSG_LEN(data);
        c->cmsg_level = h.level;
        c->cmsg_type = h.type;
        memcpy(CMSG_DATA(c), in + off + sizeof(h), data);
        o += CMSG_SPACE(data);
        off += CMSG32_ALIGN(h.len);
    }
    *outlen = o;
    return 0;
}
