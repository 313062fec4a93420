/* notifbench: what one seccomp user notification costs on this machine, the
 * floor of every call the supervisor serves (dialshim run --supervise).
 *
 *   notifbench N BATCHES
 *
 * A child installs a filter that sends getppid to a listener (returned to us
 * over a socketpair), which we serve as the supervisor's receiver does: RECV,
 * SEND at once, with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6; ignored
 * before). The child times N getppid (trapped: the round trip through us) and N
 * getpid (a plain system call), and N getppid for which we also take the
 * steps the supervisor takes for every connect before its dial (pidfd_getfd of
 * the program's TCP socket, SO_DOMAIN, TCP_INFO, process_vm_readv of the
 * sockaddr, ID_VALID, fstat for the getpeername table, close), in BATCHES
 * alternating batches, and prints the medians per call:
 * "plain_us=X notif_us=Y steps_us=Z". Exit 1 when seccomp is missing. */
#define _GNU_SOURCE
#include "../../tools/seccomp_compat.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCHES 64

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int send_fd(int s, int fd)
{
    char c = 0, buf[CMSG_SPACE(sizeof(int))];
    struct iovec io = {&c, 1};
    struct msghdr m = {
        .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);

    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof(int));
    return sendmsg(s, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int s)
{
    char c, buf[CMSG_SPACE(sizeof(int))];
    struct iovec io = {&c, 1};
    struct msghdr m = {
        .msg_iov = &io, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
    struct cmsghdr *h;
    int fd;

    if (recvmsg(s, &m, 0) != 1 || !(h = CMSG_FIRSTHDR(&m)) || h->cmsg_type != SCM_RIGHTS)
        return -1;
    memcpy(&fd, CMSG_DATA(h), sizeof(int));
    return fd;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What sup_serve and sup_connect do for a connect before the dial, on the
 * program's socket FD, its sockaddr at ADDR. */
static void serve_steps(int pidfd, pid_t pid, int fd, uint64_t addr, int l, uint64_t id)
{
    struct sockaddr_in sa;
    struct iovec local = {&sa, sizeof(sa)}, remote = {(void *)(uintptr_t)addr, sizeof(sa)};
    int dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0), domain;
    socklen_t len = sizeof(domain);
    uint8_t st;
    struct stat sb;

    getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof(st);
    getsockopt(dup, IPPROTO_TCP, TCP_INFO, &st, &len);
    process_vm_readv(pid, &local, 1, &remote, 1, 0);
    ioctl(l, SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
    fstat(dup, &sb);
    close(dup);
}

/* The program: the filter, the listener handed over, then the batches. */
static int program(int s, long n, int batches)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
    double plain[MAX_BATCHES], notif[MAX_BATCHES], steps[MAX_BATCHES], t;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
    int l, sock = socket(AF_INET, SOCK_STREAM, 0);
    char go;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
        (l = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                          &prog)) < 0 ||
        send_fd(s, l) < 0) {
        fprintf(stderr, "notifbench: seccomp listener: %s\n", strerror(errno));
        return 1;
    }
    close(l);
    if (read(s, &go, 1) != 1)
        return 1;
    for (int b = 0; b < batches; b++) {
        t = now();
        for (long i = 0; i < n / batches; i++)
            syscall(SYS_getppid);
        notif[b] = (now() - t) / (double)(n / batches) * 1e6;
        t = now();
        for (long i = 0; i < n / batches; i++)
            syscall(SYS_getpid);
        plain[b] = (now() - t) / (double)(n / batches) * 1e6;
        t = now();
        for (long i = 0; i < n / batches; i++)
            syscall(SYS_getppid, 1, sock, &sa);
        steps[b] = (now() - t) / (double)(n / batches) * 1e6;
    }
    printf("plain_us=%.2f notif_us=%.2f steps_us=%.2f\n", median(plain, batches),
           median(notif, batches), median(steps, batches));
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    int batches = argc > 2 ? atoi(argv[2]) : 10, sp[2], l, pidfd, status = 1;
    pid_t child;

    if (batches < 1 || batches > MAX_BATCHES || n < batches ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return 1;
    fflush(stdout);
    if ((child = fork()) == 0) {
        int rc = program(sp[0], n, batches);
        fflush(stdout);
        _exit(rc);
    }
    if (child < 0 || (l = recv_fd(sp[1])) < 0 ||
        (pidfd = (int)syscall(SYS_pidfd_open, child, 0)) < 0)
        return 1;
    ioctl(l, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    if (write(sp[1], "g", 1) != 1)
        return 1;
    /* Exactly that many calls come (the caller runs us under timeout). */
    for (long left = n / batches * batches * 2; left > 0;) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;

        memset(&req, 0, sizeof(req));
        if (ioctl(l, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        left--;
        if (req.data.args[0] == 1)
            serve_steps(pidfd, child, (int)req.data.args[1], req.data.args[2], l, req.id);
        resp = (struct seccomp_notif_resp){.id = req.id, .val = 1};
        ioctl(l, SECCOMP_IOCTL_NOTIF_SEND, &resp);
    }
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
