/* sandbox CMD...: runs CMD under a seccomp filter shaped like a browser's network
 * service sandbox (t_sandbox.sh): an allowlist of the calls a network process and
 * the dynamic loader make; getpeername kills the process (SIGSYS, as Chromium's
 * policy does), setsockopt(SO_BINDTODEVICE) fails with EPERM, and any call not
 * listed kills too. The filter is installed, then CMD is executed, so the shim
 * (LD_PRELOAD) loads and runs entirely under it.
 *
 * sandbox udp HOST PORT: the same filter, then one UDP datagram "hello" to
 * HOST:PORT (sendto) and its answer (poll + recvfrom, 5 s), printed as reply=...;
 * errno=NAME when a call fails. Exit status 0 ok, 1 usage, 2 setup, 3 failure.
 * sandbox getpeername: the filter, then getpeername(0): the lab's check that it kills. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const int allowed[] = {
    /* memory, threads, signals, time */
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address),
    SCMP_SYS(arch_prctl),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getrandom),
    SCMP_SYS(prlimit64),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(uname),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(execve),
    /* files (the loader, the configuration, the log) */
    SCMP_SYS(openat),
    SCMP_SYS(open),
    SCMP_SYS(close),
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(stat),
    SCMP_SYS(statx),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(fcntl),
    SCMP_SYS(dup),
    SCMP_SYS(dup2),
    SCMP_SYS(dup3),
    SCMP_SYS(pipe2),
    SCMP_SYS(eventfd2),
    SCMP_SYS(readlink),
    /* sockets and waiting */
    SCMP_SYS(socket),
    SCMP_SYS(connect),
    SCMP_SYS(bind),
    SCMP_SYS(getsockname),
    SCMP_SYS(getsockopt),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(shutdown),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
};

static int confine(void)
{
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
    int rc = f ? 0 : -1;

    for (size_t i = 0; !rc && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
    /* setsockopt: every option but SO_BINDTODEVICE, which is refused */
    if (!rc)
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setsockopt), 2,
                              SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
                              SCMP_A2(SCMP_CMP_EQ, SO_BINDTODEVICE));
    if (!rc)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
                              SCMP_A2(SCMP_CMP_NE, SO_BINDTODEVICE));
    if (!rc)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
                              SCMP_A1(SCMP_CMP_NE, SOL_SOCKET));
    /* getpeername is not in the list: SIGSYS, as in the browser's policy */
    if (!rc)
        rc = seccomp_load(f);
    if (f)
        seccomp_release(f);
    return rc;
}

static int udp_client(const char *host, const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    char buf[512];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n;

    if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return 2;
    if (sendto(fd, "hello", 5, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        printf("errno=%s\n", strerrorname_np(errno));
        return 3;
    }
    if (poll(&p, 1, 5000) != 1 || (n = recvfrom(fd, buf, sizeof(buf) - 1, 0, NULL, NULL)) < 0) {
        printf("errno=%s\n", errno ? strerrorname_np(errno) : "ETIMEDOUT");
        return 3;
    }
    buf[n] = '\0';
    printf("reply=%s\n", strtok(buf, "\n"));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "udp-client") == 0)
        return udp_client(argv[3], argv[4]);
    if (argc < 2 || (strcmp(argv[1], "udp") == 0 && argc != 4)) {
        fputs("usage: sandbox CMD... | sandbox udp HOST PORT\n", stderr);
        return 1;
    }
    if (confine() != 0) {
        fputs("sandbox: cannot install the seccomp filter\n", stderr);
        return 2;
    }
    if (strcmp(argv[1], "getpeername") == 0) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        return getpeername(0, (struct sockaddr *)&ss, &len) == 0 ? 0 : 3;
    }
    if (strcmp(argv[1], "udp") == 0) {
        char *args[] = {argv[0], "udp-client", "-", argv[2], argv[3], NULL};
        execv("/proc/self/exe", args);
    } else {
        execvp(argv[1], argv + 1);
    }
    fprintf(stderr, "sandbox: exec: %s\n", strerror(errno));
    return 2;
}
