/* vforksock HOST PORT [clone]: a UDP socket echoes once through whatever the shim
 * routes it by, then a vfork child (with "clone": a clone(2) child with CLONE_VM |
 * CLONE_VFORK on a stack of its own) closes it and makes a socket of its own (the
 * kernel gives the child the same number) before _exit, as a spawn helper may;
 * then the socket echoes again. The child runs the hooks in this process's memory, so what
 * the shim keeps for the number (here a SOCKS5 association) must survive it.
 * Prints child=, echo1=, echo2=, fds_before=, fds_after= (ok / bad / lost). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1; /* less the directory's own */
}

/* One datagram TAG to DST and its echo: the far server answers "you are ...\n"
 * followed by the datagram. */
static const char *echo(int s, const struct sockaddr_in *dst, const char *tag)
{
    char buf[2048];
    ssize_t n;
    char *body;

    if (sendto(s, tag, strlen(tag), 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
        return "bad";
    n = recv(s, buf, sizeof(buf) - 1, 0);
    if (n < 0)
        return "lost";
    buf[n] = '\0';
    body = strchr(buf, '\n');
    return body && strcmp(body + 1, tag) == 0 ? "ok" : "bad";
}

static int the_socket;

static void child_work(void)
{
    close(the_socket);
    _exit(socket(AF_INET, SOCK_DGRAM, 0) == the_socket ? 0 : 7);
}

static int clone_child(void *arg)
{
    (void)arg;
    child_work();
    return 0;
}

/* The child, by vfork or by clone on STACK; its pid or -1. */
static pid_t spawn(int by_clone)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    pid_t pid;

    if (by_clone)
        return clone(clone_child, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
    pid = vfork();
    if (pid == 0)
        child_work();
    return pid;
}

int main(int argc, char **argv)
{
    struct sockaddr_in dst = {.sin_family = AF_INET};
    struct timeval tv = {3, 0};
    int s, status = -1;
    pid_t pid;

    if (argc < 3 || argc > 4 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
        fprintf(stderr, "usage: vforksock HOST PORT [clone]\n");
        return 2;
    }
    dst.sin_port = htons((unsigned short)atoi(argv[2]));
    printf("fds_before=%d\n", fds());
    s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
        return 3;
    printf("echo1=%s\n", echo(s, &dst, "before"));
    fflush(stdout);
    the_socket = s;
    pid = spawn(argc == 4 && strcmp(argv[3], "clone") == 0);
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return 4;
    printf("child=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
    printf("echo2=%s\n", echo(s, &dst, "after"));
    close(s);
    printf("fds_after=%d\n", fds());
    return 0;
}
