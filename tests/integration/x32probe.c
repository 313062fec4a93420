/* x32probe HOST PORT: a TCP connect and a UDP sendto to HOST:PORT made with the
 * x32 ABI's call numbers (x86-64's with bit 30 set), as an x32 program makes
 * them. Prints connect=<errno name or ok> and sendto=<...>. For t_supervise_arch:
 * a call of an architecture the supervisor does not serve must be refused,
 * never run unrouted. x86-64 only (elsewhere it prints unsupported=1). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define X32_BIT 0x40000000L

static const char *result(long rc)
{
    return rc == 0 ? "ok" : strerrorname_np(errno);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int tcp, udp;

    if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
        return 2;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
#ifdef __x86_64__
    tcp = socket(AF_INET, SOCK_STREAM, 0);
    udp = socket(AF_INET, SOCK_DGRAM, 0);
    printf("connect=%s\n", result(syscall(X32_BIT | SYS_connect, tcp, &sa, sizeof(sa))));
    printf("sendto=%s\n",
           result(syscall(X32_BIT | SYS_sendto, udp, "x", 1, 0, &sa, sizeof(sa)) == 1 ? 0 : -1));
    close(tcp);
    close(udp);
#else
    (void)tcp, (void)udp;
    puts("unsupported=1");
#endif
    return 0;
}
