/* tcpinfo HOST PORT [MSG]: a tiny TCP client for the integration tests.
 *
 * Resolves HOST with getaddrinfo, connects with a plain blocking connect() (so an
 * LD_PRELOAD shim can intercept it), writes MSG (default "hello\n"), reads the
 * server's first line and prints:
 *
 *     local=<ip> <port>
 *     syn_data=0|1        tcpi_options & TCPI_OPT_SYN_DATA (data carried in the SYN)
 *     reply=<first line>
 *
 * On connect failure it prints "errno=NAME" (e.g. errno=ECONNREFUSED).
 * Exit status: 0 ok, 1 usage, 2 name resolution failed, 3 connect failed,
 * 4 write/read failed (also prints errno=NAME), 5 TCP_INFO unavailable.
 * Every read and write (not the connect) is bounded by a 5 s socket timeout.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "UNKNOWN";
}

static void print_local(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        port = ntohs(s4->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        port = ntohs(s6->sin6_port);
    }
    printf("local=%s %u\n", ip, port);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: tcpinfo HOST PORT [MSG]\n");
        return 1;
    }
    const char *msg = argc == 4 ? argv[3] : "hello\n";

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &res);
    if (rc != 0 || !res) {
        printf("gai=%s\n", gai_strerror(rc));
        return 2;
    }

    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd < 0) {
        printf("errno=%s\n", errname(errno));
        freeaddrinfo(res);
        return 3;
    }
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        printf("errno=%s\n", errname(errno));
        fflush(stdout);
        freeaddrinfo(res);
        close(fd);
        return 3;
    }
    freeaddrinfo(res);
    /* after connect: SO_SNDTIMEO would also bound a blocking connect */
    struct timeval tv = { .tv_sec = 5, .tv_usec = 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    size_t mlen = strlen(msg);
    if (mlen > 0) {
        ssize_t w = write(fd, msg, mlen);
        if (w < 0) {
            printf("errno=%s\n", errname(errno));
            close(fd);
            return 4;
        }
    }
    print_local(fd);

    char buf[512];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            printf("errno=%s\n", errname(errno));
            close(fd);
            return 4;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (memchr(buf, '\n', got))
            break;
    }
    buf[got] = '\0';
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';

    struct tcp_info ti;
    socklen_t tlen = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) != 0) {
        printf("errno=%s\n", errname(errno));
        close(fd);
        return 5;
    }
    printf("syn_data=%d\n", (ti.tcpi_options & TCPI_OPT_SYN_DATA) ? 1 : 0);
    printf("reply=%s\n", buf);
    close(fd);
    return got > 0 ? 0 : 4;
}
