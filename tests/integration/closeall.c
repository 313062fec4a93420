/* closeall log|udp HOW FILE HOST PORT: a program that closes every descriptor it
 * did not open and then opens a file, while the shim keeps descriptors of its own.
 *
 * HOW: closefrom | range | loop (closefrom(3), close_range(3, ~0U, 0), or
 * close() of 3..1023), for udp from the UDP socket's number + 1 instead of 3.
 *   log: a TCP connect to HOST:PORT (the test routes it to a block dialer: one log
 *        line), the close-all, FILE opened, the connect again (another log line),
 *        then "mine\n" written to FILE.
 *   udp: a UDP socket sends "one" to HOST:PORT and reads the reply (the test routes
 *        it through a SOCKS5 association), the close-all, FILE opened, "two" sent
 *        and its reply read, the socket closed, then "mine\n" written to FILE.
 * Prints fd=<FILE's number>, first=/second=<reply or errno=NAME>, write=ok|errno=NAME.
 * Exit status 0, or 1 for usage. Receives wait at most 3 s. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static struct sockaddr_in dst;

static void close_all(const char *how, int from)
{
    if (!strcmp(how, "closefrom"))
        closefrom(from);
    else if (!strcmp(how, "range"))
        close_range((unsigned)from, ~0U, 0);
    else
        for (int fd = from; fd < 1024; fd++)
            close(fd);
}

static void tcp_try(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);

    connect(s, (struct sockaddr *)&dst, sizeof(dst));
    close(s);
}

/* One datagram out and its reply, printed as NAME=<reply> or NAME=errno=... */
static void udp_exchange(int s, const char *name, const char *msg)
{
    char buf[256];
    ssize_t n;

    if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0 ||
        (n = recv(s, buf, sizeof(buf) - 1, 0)) < 0) {
        printf("%s=errno=%s\n", name, strerrorname_np(errno));
        return;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    printf("%s=%s\n", name, buf);
}

int main(int argc, char **argv)
{
    struct timeval tv = {3, 0};
    int udp, s = -1, fd;

    if (argc != 6 || inet_pton(AF_INET, argv[4], &dst.sin_addr) != 1) {
        fprintf(stderr, "usage: closeall log|udp closefrom|range|loop FILE HOST PORT\n");
        return 1;
    }
    dst.sin_family = AF_INET;
    dst.sin_port = htons((unsigned short)atoi(argv[5]));
    udp = !strcmp(argv[1], "udp");
    if (udp) {
        s = socket(AF_INET, SOCK_DGRAM, 0);
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        udp_exchange(s, "first", "one");
    } else {
        tcp_try();
    }
    fflush(stdout);
    close_all(argv[2], udp ? s + 1 : 3);
    fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    printf("fd=%d\n", fd);
    if (udp) {
        udp_exchange(s, "second", "two");
        close(s);
    } else {
        tcp_try();
    }
    if (write(fd, "mine\n", 5) == 5)
        printf("write=ok\n");
    else
        printf("write=errno=%s\n", strerrorname_np(errno));
    close(fd);
    return 0;
}
