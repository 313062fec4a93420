/* udp: SOCKS5 UDP ASSOCIATE. The pure helpers (nested headers, placing the payload
 * over the program's iovecs, the chain check), then the association engine against
 * a scripted SOCKS5 server on loopback: handshake, wrapped datagrams both ways,
 * malformed/fragmented/foreign datagrams dropped, truncation, peeking,
 * non-blocking calls, a connected socket, and a control connection that dies. */
#include "common/dialer/dialer.h"
#include "common/relay.h"
#include "common/udpexplain.h"

#include "common/fdtab.h"
#include "common/proto/socks5.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    ck_assert_int_eq(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

static struct conf *load(const char *text)
{
    struct conf *c = conf_load_string("t.ini", text, NULL, NULL);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* ---------------------------------------------------------------- helpers */

START_TEST(unwrap_one_and_nested)
{
    struct sockaddr_in relay = sin4("203.0.113.9", 4000), dst = sin4("192.0.2.7", 53);
    uint8_t buf[600];
    struct proto_addr src;
    ssize_t a, b;

    a = socks5_encode_udp_header(buf, sizeof(buf), NULL, (struct sockaddr *)&dst, 53);
    memcpy(buf + a, "hi", 2);
    ck_assert_int_eq(socks5_unwrap_udp(buf, (size_t)a + 2, 1, &src), a);
    ck_assert_int_eq(src.kind, PROTO_ADDR_IPV4);
    ck_assert_uint_eq(src.port, 53);

    /* two proxies: the outer header names the next relay, the inner the peer */
    a = socks5_encode_udp_header(buf, sizeof(buf), NULL, (struct sockaddr *)&relay, 4000);
    b = socks5_encode_udp_header(buf + a, sizeof(buf) - a, "peer.example", NULL, 5353);
    memcpy(buf + a + b, "xyz", 3);
    ck_assert_int_eq(socks5_unwrap_udp(buf, (size_t)(a + b + 3), 2, &src), a + b);
    ck_assert_int_eq(src.kind, PROTO_ADDR_DOMAIN);
    ck_assert_str_eq(src.host, "peer.example");
    ck_assert_uint_eq(src.port, 5353);
}
END_TEST

START_TEST(unwrap_rejects_bad)
{
    uint8_t frag[] = {0, 0, 1, 1, 192, 0, 2, 7, 0, 53, 'x'};
    uint8_t shortv4[] = {0, 0, 0, 1, 192, 0, 2};
    uint8_t atyp[] = {0, 0, 0, 9, 1, 2, 3, 4, 0, 53};
    uint8_t one[] = {0, 0, 0, 1, 192, 0, 2, 7, 0, 53};
    struct proto_addr src;

    ck_assert_int_eq(socks5_unwrap_udp(frag, sizeof(frag), 1, &src), -1);
    ck_assert_int_eq(socks5_unwrap_udp(shortv4, sizeof(shortv4), 1, &src), -1);
    ck_assert_int_eq(socks5_unwrap_udp(atyp, sizeof(atyp), 1, &src), -1);
    ck_assert_int_eq(socks5_unwrap_udp((const uint8_t *)"", 0, 1, &src), -1);
    /* a good header, but two were expected */
    ck_assert_int_eq(socks5_unwrap_udp(one, sizeof(one), 2, &src), -1);
    /* an empty payload is a datagram too */
    ck_assert_int_eq(socks5_unwrap_udp(one, sizeof(one), 1, &src), 10);
}
END_TEST

/* A datagram DG (LEN bytes) received as recvmsg would put it into [HDR][iovecs],
 * then placed: the iovecs must start with the payload at OFF. */
static void place_case(const uint8_t *dg, size_t len, size_t hcap, size_t off,
                       const size_t *iovlens, size_t n)
{
    uint8_t hdr[64], store[512], flat[512];
    struct iovec iov[8];
    size_t cap = 0, pos = 0, copy, payload = len - off;

    memset(hdr, 0xee, sizeof(hdr));
    memset(store, 0xee, sizeof(store));
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = store + cap + i * 7; /* gaps between the buffers */
        iov[i].iov_len = iovlens[i];
        cap += iovlens[i];
    }
    /* the kernel's scatter */
    memcpy(hdr, dg, len < hcap ? len : hcap);
    for (size_t i = 0; i < n && hcap + pos < len; i++) {
        size_t k = len - hcap - pos < iov[i].iov_len ? len - hcap - pos : iov[i].iov_len;
        memcpy(iov[i].iov_base, dg + hcap + pos, k);
        pos += k;
    }
    copy = payload < cap ? payload : cap;
    ck_assert_int_eq(relay_place_payload(hdr, hcap, off, iov, n, copy), 0);
    pos = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(flat + pos, iov[i].iov_base, iov[i].iov_len);
        pos += iov[i].iov_len;
    }
    ck_assert_mem_eq(flat, dg + off, copy);
}

START_TEST(place_payload_every_shape)
{
    uint8_t dg[300];
    size_t one[1], three[3];

    for (size_t i = 0; i < sizeof(dg); i++)
        dg[i] = (uint8_t)(i * 7 + 3);
    /* header lengths 0 (a direct datagram) to the whole HDR, payloads around it */
    for (size_t off = 0; off <= 40; off += 5) {
        for (size_t len = off; len <= off + 120; len += 13) {
            for (size_t cap = 0; cap <= 130; cap += 9) {
                one[0] = cap;
                place_case(dg, len, 40, off, one, 1);
                three[0] = cap / 3;
                three[1] = 1;
                three[2] = cap - cap / 3;
                place_case(dg, len, 40, off, three, 3);
            }
        }
    }
}
END_TEST

START_TEST(chain_check_and_explain)
{
    struct conf *c =
        load("[dialer s5]\ntype = socks5\nserver = 198.51.100.2:1080\n\n"
             "[dialer s5b]\ntype = socks5\nserver = 198.51.100.2:1080\nudp = block\n\n"
             "[dialer h]\ntype = http\nserver = 198.51.100.2:3128\n\n"
             "[dialer overh]\ntype = socks5\nserver = 198.51.100.3:1080\ndetour = h\n\n"
             "[dialer overs5]\ntype = socks5\nserver = 198.51.100.3:1080\ndetour = s5\n"
             "remote_dns = true\n\n"
             "[dialer nudp]\ntype = direct\nudp = block\n\n"
             "[dialer vianudp]\ntype = socks5\nserver = 198.51.100.3:1080\ndetour = nudp\n");
    char why[300], line[1024];

    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "s5"), why, sizeof(why)), 0);
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "overs5"), why, sizeof(why)), 0);
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "direct"), why, sizeof(why)), 0);
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "s5b"), why, sizeof(why)), EPERM);
    ck_assert_ptr_nonnull(strstr(why, "udp = block"));
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "h"), why, sizeof(why)), EPERM);
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "overh"), why, sizeof(why)), EPERM);
    ck_assert_ptr_nonnull(strstr(why, "TCP only"));
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "block"), why, sizeof(why)), EPERM);
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "nudp"), why, sizeof(why)), EPERM);
    ck_assert_int_eq(associate_check(c, conf_dialer_index(c, "vianudp"), why, sizeof(why)), EPERM);

    udp_explain(c, conf_dialer_index(c, "overs5"), 53, line, sizeof(line));
    ck_assert_ptr_nonnull(strstr(line, "ASSOCIATE at s5"));
    ck_assert_ptr_nonnull(strstr(line, "then overs5"));
    ck_assert_ptr_nonnull(strstr(line, "DNS queries to port 53 leave from the proxy"));
    udp_explain(c, conf_dialer_index(c, "s5b"), 53, line, sizeof(line));
    ck_assert_ptr_nonnull(strstr(line, "EPERM"));
    ck_assert_ptr_nonnull(strstr(line, "no DNS query leaves"));
    udp_explain(c, conf_dialer_index(c, "direct"), 53, line, sizeof(line));
    ck_assert_ptr_nonnull(strstr(line, "directly"));
    conf_free(c);
}
END_TEST

/* ---------------------------------------------------------------- a scripted proxy */

struct fake {
    int lfd, ufd, cfd;
    uint16_t port, relay_port;
    bool zero_bnd; /* answer BND.ADDR 0.0.0.0: "my own address" */
    uint8_t cmd;   /* the command the client sent */
    pthread_t th;
};

static void read_n(int fd, uint8_t *b, size_t n)
{
    size_t have = 0;
    while (have < n) {
        ssize_t r = read(fd, b + have, n - have);
        ck_assert_int_gt(r, 0);
        have += (size_t)r;
    }
}

static void *fake_run(void *arg)
{
    struct fake *f = arg;
    uint8_t b[64], rep[10] = {5, 0, 0, 1, 127, 0, 0, 1};

    f->cfd = accept(f->lfd, NULL, NULL);
    read_n(f->cfd, b, 3); /* 05 01 00 */
    if (write(f->cfd, "\x05\x00", 2) != 2)
        return NULL;
    read_n(f->cfd, b, 10); /* 05 03 00 01 a.b.c.d port */
    f->cmd = b[1];
    if (f->zero_bnd)
        memset(rep + 4, 0, 4);
    rep[8] = (uint8_t)(f->relay_port >> 8);
    rep[9] = (uint8_t)f->relay_port;
    if (write(f->cfd, rep, sizeof(rep)) != (ssize_t)sizeof(rep))
        return NULL;
    return NULL;
}

static uint16_t bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t l = sizeof(a);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    return ntohs(a.sin_port);
}

static struct conf *fake_start(struct fake *f, bool zero_bnd)
{
    struct sockaddr_in lo = sin4("127.0.0.1", 0);
    char text[256];

    memset(f, 0, sizeof(*f));
    f->zero_bnd = zero_bnd;
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&lo, sizeof(lo)), 0);
    ck_assert_int_eq(listen(f->lfd, 4), 0);
    f->ufd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_eq(bind(f->ufd, (struct sockaddr *)&lo, sizeof(lo)), 0);
    f->port = bound_port(f->lfd);
    f->relay_port = bound_port(f->ufd);
    ck_assert_int_eq(pthread_create(&f->th, NULL, fake_run, f), 0);
    snprintf(text, sizeof(text),
             "[dialer p]\ntype = socks5\nserver = 127.0.0.1:%u\nconnect_timeout = 2s\n\n"
             "[app all]\nmatch = *\ndialer = p\n",
             f->port);
    return load(text);
}

static void fake_stop(struct fake *f)
{
    close(f->lfd);
    close(f->ufd);
    if (f->cfd >= 0)
        close(f->cfd);
}

/* The relay answers the program's socket at PORT with the bytes given. */
static void relay_say(struct fake *f, uint16_t port, const void *b, size_t n)
{
    struct sockaddr_in to = sin4("127.0.0.1", port);
    ck_assert_int_eq(sendto(f->ufd, b, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
}

/* A wrapped datagram from 192.0.2.7:53 with PAYLOAD. */
static size_t wrapped(uint8_t *out, const char *payload, size_t n)
{
    static const uint8_t h[] = {0, 0, 0, 1, 192, 0, 2, 7, 0, 53};
    memcpy(out, h, sizeof(h));
    memcpy(out + sizeof(h), payload, n);
    return sizeof(h) + n;
}

static ssize_t rx(int fd, void *buf, size_t n, int flags, struct sockaddr_in *from, int *mflags)
{
    struct iovec iov = {buf, n};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t r;

    if (from) {
        m.msg_name = from;
        m.msg_namelen = sizeof(*from);
    }
    r = relay_recv(fd, &m, flags, &(struct relay_rx){.prog = "test"});
    if (mflags)
        *mflags = m.msg_flags;
    return r;
}

static struct dial dial_for(struct conf *c, int fd, const struct sockaddr_in *dst)
{
    struct dial d = {.conf = c,
                     .dialer = conf_dialer_index(c, "p"),
                     .fd = fd,
                     .type = SOCK_DGRAM,
                     .sa = (const struct sockaddr *)dst,
                     .len = sizeof(*dst)};
    return d;
}

START_TEST(associate_send_receive_close)
{
    struct fake f;
    struct conf *c = fake_start(&f, true);
    struct sockaddr_in dst = sin4("192.0.2.7", 53), from, got;
    int u = socket(AF_INET, SOCK_DGRAM, 0), fl;
    struct dial d = dial_for(c, u, &dst);
    struct relay_target t = {.sa = (struct sockaddr *)&dst, .port = 53};
    struct iovec iov = {"hello", 5};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    uint8_t b[512], dg[512];
    socklen_t fl2 = sizeof(got);
    bool created;
    size_t n;
    uint16_t uport;

    ck_assert_int_eq(associate_open(&d, &created), 0);
    ck_assert(created);
    pthread_join(f.th, NULL);
    ck_assert_int_eq(f.cmd, SOCKS5_CMD_UDP_ASSOCIATE);
    ck_assert(fdtab_get(u) & FD_ASSOC);
    ck_assert_int_eq(relay_dialer(u), d.dialer);
    ck_assert_int_eq(associate_open(&d, &created), 0);
    ck_assert(!created);
    uport = bound_port(u); /* the association bound it */
    ck_assert_uint_ne(uport, 0);

    /* out: header + payload, to the relay (BND 0.0.0.0 = the proxy's own address) */
    ck_assert_int_eq(relay_send(u, &m, 0, &t), 5);
    ck_assert_int_eq(recvfrom(f.ufd, b, sizeof(b), 0, (struct sockaddr *)&got, &fl2), 15);
    ck_assert_mem_eq(b, "\x00\x00\x00\x01\xc0\x00\x02\x07\x00\x35hello", 15);
    ck_assert_uint_eq(ntohs(got.sin_port), uport);
    /* a name goes as a name */
    t = (struct relay_target){.host = "peer.example", .port = 5353};
    ck_assert_int_eq(relay_send(u, &m, 0, &t), 5);
    ck_assert_int_eq(recv(f.ufd, b, sizeof(b), 0), 3 + 1 + 1 + 12 + 2 + 5);
    ck_assert_int_eq(b[3], SOCKS5_ATYP_DOMAIN);

    /* in: garbage, a fragment and a stranger's datagram are dropped */
    relay_say(&f, uport, "xx", 2);
    relay_say(&f, uport, "\x00\x00\x01\x01\xc0\x00\x02\x07\x00\x35zz", 12);
    {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in to = sin4("127.0.0.1", uport);
        n = wrapped(dg, "stranger", 8);
        ck_assert_int_eq(sendto(s, dg, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
        close(s);
    }
    n = wrapped(dg, "world!", 6);
    relay_say(&f, uport, dg, n);
    memset(&from, 0, sizeof(from));
    ck_assert_int_eq(rx(u, b, sizeof(b), 0, &from, &fl), 6);
    ck_assert_mem_eq(b, "world!", 6);
    ck_assert_uint_eq(ntohs(from.sin_port), 53);
    ck_assert_uint_eq(from.sin_addr.s_addr, dst.sin_addr.s_addr);
    ck_assert_int_eq(fl & MSG_TRUNC, 0);

    /* truncation as the kernel does it, and MSG_TRUNC's real length */
    n = wrapped(dg, "0123456789abcdefghij", 20);
    relay_say(&f, uport, dg, n);
    ck_assert_int_eq(rx(u, b, 4, 0, NULL, &fl), 4);
    ck_assert_mem_eq(b, "0123", 4);
    ck_assert_int_ne(fl & MSG_TRUNC, 0);
    relay_say(&f, uport, dg, n);
    ck_assert_int_eq(rx(u, b, 4, MSG_TRUNC, NULL, &fl), 20);

    /* peek skips (and consumes) a bad datagram, then leaves the good one */
    relay_say(&f, uport, "bad", 3);
    n = wrapped(dg, "peeked", 6);
    relay_say(&f, uport, dg, n);
    ck_assert_int_eq(rx(u, b, sizeof(b), MSG_PEEK, NULL, NULL), 6);
    ck_assert_int_eq(rx(u, b, sizeof(b), 0, NULL, NULL), 6);
    ck_assert_mem_eq(b, "peeked", 6);

    /* non-blocking: nothing, or only garbage, is EAGAIN */
    ck_assert_int_eq(rx(u, b, sizeof(b), MSG_DONTWAIT, NULL, NULL), -1);
    ck_assert_int_eq(errno, EAGAIN);
    relay_say(&f, uport, "bad", 3);
    ck_assert_int_eq(rx(u, b, sizeof(b), MSG_DONTWAIT, NULL, NULL), -1);
    ck_assert_int_eq(errno, EAGAIN);

    /* scattered into three buffers */
    {
        char p1[3], p2[1], p3[40];
        struct iovec v[3] = {{p1, 3}, {p2, 1}, {p3, 40}};
        struct msghdr mm = {.msg_iov = v, .msg_iovlen = 3};
        n = wrapped(dg, "abcdefghijklmnopqrst", 20);
        relay_say(&f, uport, dg, n);
        ck_assert_int_eq(relay_recv(u, &mm, 0, &(struct relay_rx){.prog = "test"}), 20);
        ck_assert_mem_eq(p1, "abc", 3);
        ck_assert_mem_eq(p2, "d", 1);
        ck_assert_mem_eq(p3, "efghijklmnopqrst", 16);
    }

    /* the control connection ends: the association is dead, nothing is sent */
    close(f.cfd);
    f.cfd = -1;
    usleep(20000);
    t = (struct relay_target){.sa = (struct sockaddr *)&dst, .port = 53};
    ck_assert_int_eq(relay_send(u, &m, 0, &t), -1);
    ck_assert_int_eq(errno, ECONNRESET);
    ck_assert_int_eq(recv(f.ufd, b, sizeof(b), MSG_DONTWAIT), -1);

    relay_close(u);
    ck_assert_int_eq(relay_dialer(u), -1);
    fdtab_set(u, FD_UNKNOWN);
    close(u);
    fake_stop(&f);
    conf_free(c);
}
END_TEST

START_TEST(connected_socket)
{
    struct fake f;
    struct conf *c = fake_start(&f, false);
    struct sockaddr_in dst = sin4("192.0.2.7", 53), peer;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct dial d = dial_for(c, u, &dst);
    struct iovec iov = {"ping", 4};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    uint8_t b[256], dg[256];
    socklen_t pl = sizeof(peer);
    size_t n;

    bool created = false;

    ck_assert_int_eq(associate_dial(&d), 0);
    /* a connect records the association; nothing is sent until it is opened */
    ck_assert_int_eq(relay_waiting(u), d.dialer);
    ck_assert_int_eq(relay_dialer(u), -1);
    ck_assert_int_eq(relay_send(u, &m, 0, NULL), -1);
    ck_assert_int_eq(errno, ENOTCONN);
    ck_assert_int_eq(recv(f.ufd, b, sizeof(b), MSG_DONTWAIT), -1);
    /* the first datagram opens it (what the engine does before relay_send) */
    ck_assert_int_eq(associate_open(&d, &created), 0);
    ck_assert(created);
    pthread_join(f.th, NULL);
    ck_assert_int_eq(relay_waiting(u), -1);
    ck_assert_int_eq(relay_dialer(u), d.dialer);
    /* the program sees its peer, not the relay */
    ck_assert(relay_peer(u, (struct sockaddr *)&peer, &pl));
    ck_assert_uint_eq(ntohs(peer.sin_port), 53);
    ck_assert_uint_eq(peer.sin_addr.s_addr, dst.sin_addr.s_addr);
    /* send without a destination goes to the peer, wrapped */
    ck_assert_int_eq(relay_send(u, &m, 0, NULL), 4);
    ck_assert_int_eq(recv(f.ufd, b, sizeof(b), 0), 14);
    ck_assert_mem_eq(b + 10, "ping", 4);
    /* another peer's datagram (through the same relay) is dropped */
    {
        static const uint8_t other[] = {0, 0, 0, 1, 192, 0, 2, 8, 0, 53, 'n', 'o'};
        relay_say(&f, bound_port(u), other, sizeof(other));
    }
    n = wrapped(dg, "pong", 4);
    relay_say(&f, bound_port(u), dg, n);
    ck_assert_int_eq(rx(u, b, sizeof(b), 0, NULL, NULL), 4);
    ck_assert_mem_eq(b, "pong", 4);
    /* a new connect elsewhere: no peer through the relay any more */
    relay_forget_peer(u);
    pl = sizeof(peer);
    ck_assert(!relay_peer(u, (struct sockaddr *)&peer, &pl));
    relay_close(u);
    fdtab_set(u, FD_UNKNOWN);
    close(u);
    fake_stop(&f);
    conf_free(c);
}
END_TEST

/* dup: the copy shares the association (one control connection); closing the
 * original leaves it working; the control connection ends with the last copy. */
START_TEST(copies_share_the_association)
{
    struct fake f;
    struct conf *c = fake_start(&f, true);
    struct sockaddr_in dst = sin4("192.0.2.7", 53);
    int u = socket(AF_INET, SOCK_DGRAM, 0), u2, u3;
    struct dial d = dial_for(c, u, &dst);
    struct relay_target t = {.sa = (struct sockaddr *)&dst, .port = 53};
    struct iovec iov = {"dup", 3};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    uint8_t b[256], dg[256];
    bool created;
    size_t n;

    ck_assert_int_eq(associate_open(&d, &created), 0);
    pthread_join(f.th, NULL);
    u2 = dup(u);
    ck_assert_int_ge(u2, 0);
    ck_assert_int_eq(relay_dup(u, u2), 0);
    ck_assert_int_eq(relay_dialer(u2), d.dialer);
    /* a copy over a number the table has not reached yet */
    ck_assert_int_eq(relay_reserve(900), 0);
    u3 = dup2(u, 900);
    ck_assert_int_eq(u3, 900);
    ck_assert_int_eq(relay_dup(u, u3), 0);

    relay_close(u);
    close(u);
    ck_assert_int_eq(relay_dialer(u), -1);
    ck_assert_int_eq(relay_send(u2, &m, 0, &t), 3);
    ck_assert_int_eq(recv(f.ufd, b, sizeof(b), 0), 13);
    ck_assert_mem_eq(b + 10, "dup", 3);
    n = wrapped(dg, "back", 4);
    relay_say(&f, bound_port(u2), dg, n);
    ck_assert_int_eq(rx(u3, b, sizeof(b), 0, NULL, NULL), 4);
    ck_assert_mem_eq(b, "back", 4);

    /* the control connection is still open: the proxy reads nothing, no EOF */
    ck_assert_int_eq(recv(f.cfd, b, sizeof(b), MSG_DONTWAIT), -1);
    relay_close(u2);
    close(u2);
    ck_assert_int_eq(recv(f.cfd, b, sizeof(b), MSG_DONTWAIT), -1);
    relay_close(u3);
    close(u3);
    ck_assert_int_eq(recv(f.cfd, b, sizeof(b), 0), 0); /* the last copy ended it */
    fdtab_set(u, FD_UNKNOWN);
    fake_stop(&f);
    conf_free(c);
}
END_TEST

START_TEST(proxy_refuses_or_is_absent)
{
    struct conf *c = load("[dialer p]\ntype = socks5\nserver = 127.0.0.1:9\n"
                          "connect_timeout = 1s\n\n[app all]\nmatch = *\ndialer = p\n");
    struct sockaddr_in dst = sin4("192.0.2.7", 53);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct dial d = dial_for(c, u, &dst);
    bool created;

    ck_assert_int_eq(associate_open(&d, &created), ECONNREFUSED);
    ck_assert_ptr_nonnull(strstr(d.why, "UDP ASSOCIATE at p"));
    ck_assert_int_eq(relay_dialer(u), -1);
    ck_assert(!(fdtab_get(u) & FD_ASSOC));
    close(u);
    conf_free(c);
}
END_TEST

int main(void)
{
    sys_init_default();
    fdtab_init();
    Suite *s = suite_create("udp");
    TCase *tp = tcase_create("pure");
    TCase *ta = tcase_create("association");

    tcase_add_test(tp, unwrap_one_and_nested);
    tcase_add_test(tp, unwrap_rejects_bad);
    tcase_add_test(tp, place_payload_every_shape);
    tcase_add_test(tp, chain_check_and_explain);
    tcase_set_timeout(ta, 20);
    tcase_add_test(ta, associate_send_receive_close);
    tcase_add_test(ta, connected_socket);
    tcase_add_test(ta, copies_share_the_association);
    tcase_add_test(ta, proxy_refuses_or_is_absent);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, ta);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
