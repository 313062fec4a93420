/* netdb: the policy behind getaddrinfo and friends, without a network.
 *
 * Network safety: every resolver here reads a hosts file of our own and has one
 * server, 127.0.0.1 on a port nothing listens on (a query is refused at once);
 * the real getaddrinfo is only given numeric names and localhost. Names are under
 * .test, addresses from the documentation ranges.
 */
#include "common/dns.h"
#include "common/fakeip.h"
#include "common/log.h"
#include "common/netdb.h"
#include "common/resq.h"
#include "common/state.h"
#include "common/sys.h"

/* common/addrinfo.c: whether RES heads a list made there and not yet freed (the
 * set freeaddrinfo consults; declared here, no caller but the tests). */
bool netdb_owns(const struct addrinfo *res);

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static char hosts_path[] = "/tmp/test_netdb_hosts.XXXXXX";
static char log_path[] = "/tmp/test_netdb_log.XXXXXX";
static struct conf *cfg;

static const char hosts_text[] = "# fixture of test_netdb\n"
                                 "203.0.113.10 dual.test dual-alias.test\n"
                                 "2001:db8::10 dual.test\n"
                                 "203.0.113.30 only4.test\n"
                                 "2001:db8::40 only6.test\n"
                                 "203.0.113.20 www.v4.test www.v6.test www.p6.test www.o4.test\n"
                                 "2001:db8::20 www.v4.test www.v6.test www.p6.test www.o4.test\n"
                                 "203.0.113.50 www.fake.test\n"
                                 "2001:db8::50 www.fake.test\n";

/* A loopback port nothing listens on: a query there is refused at once. */
static int dead_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        return 9; /* discard: nothing listens there either in a test box */
    close(fd);
    return ntohs(a.sin_port);
}

static void report(void *ctx, const char *file, int line, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
}

/* The configuration every test sees, in the parent (each test runs in a fork). */
static void global_setup(void)
{
    char text[8192], resolvers[4096];
    int fd = mkstemp(hosts_path), port = dead_port(), n;
    const char *res_names[] = {"hosts", "v4", "v6", "p6", "fake", "fake4", "fake6p"};
    const char *res_extra[] = {"",
                               "strategy = ipv4_only\n",
                               "strategy = ipv6_only\n",
                               "strategy = prefer_ipv6\n",
                               "mode = fake_ip\n",
                               "mode = fake_ip\nstrategy = ipv4_only\n",
                               "mode = fake_ip\nstrategy = prefer_ipv6\n"};
    size_t off = 0;

    if (fd < 0 || write(fd, hosts_text, sizeof(hosts_text) - 1) != (ssize_t)sizeof(hosts_text) - 1)
        abort();
    close(fd);
    for (int i = 0; i < 7; i++)
        off += (size_t)snprintf(resolvers + off, sizeof(resolvers) - off,
                                "[resolver %s]\nservers = 127.0.0.1:%d\nhosts_file = %s\n"
                                "timeout = 300ms\nattempts = 1\n%s\n",
                                res_names[i], port, hosts_path, res_extra[i]);
    n = snprintf(
        text, sizeof(text),
        "[global]\nfake_ip_range = 198.18.0.0/15\nfake_ip6_range = fc00::/18\n\n%s"
        "[dialer d_hosts]\ndomain_resolver = hosts\n\n"
        "[dialer d_v4]\ndomain_resolver = v4\n\n"
        "[dialer d_v6]\ndomain_resolver = v6\n\n"
        "[dialer d_p6]\ndomain_resolver = p6\n\n"
        "[dialer d_o4]\ndomain_resolver = hosts\ndomain_strategy = ipv4_only\n\n"
        "[dialer d_fake]\ndomain_resolver = fake\n\n"
        "[dialer d_fake4]\ndomain_resolver = fake4\n\n"
        "[dialer d_fake6p]\ndomain_resolver = fake6p\n\n"
        "[dialer sox]\ntype = socks5\nserver = 127.0.0.1:1\nremote_dns = true\n\n"
        "[dialer sox_real]\ntype = socks5\nserver = 127.0.0.1:1\ndomain_resolver = hosts\n\n"
        "[app test]\nmatch = *\ndialer = d_hosts\n"
        "route = domain:*.block.test -> block\n"
        "route = port:9999 -> block\n"
        "route = domain:*.v4.test -> d_v4\n"
        "route = domain:*.v6.test -> d_v6\n"
        "route = domain:*.p6.test -> d_p6\n"
        "route = domain:*.o4.test -> d_o4\n"
        "route = domain:*.fake.test -> d_fake\n"
        "route = domain:*.f4.test -> d_fake4\n"
        "route = domain:*.f6p.test -> d_fake6p\n"
        "route = domain:*.sox.test -> sox\n"
        "route = domain:*.soxreal.test -> sox_real\n",
        resolvers);
    if (n <= 0 || (size_t)n >= sizeof(text))
        abort();
    cfg = conf_load_string("netdb.ini", text, report, NULL);
    if (!cfg)
        abort();
    memset(&state, 0, sizeof(state));
    state.conf = cfg;
    state.active = true;
    state.app = conf_app_index(cfg, "test");
    state.app_dialer = conf_dialer_index(cfg, "d_hosts");
    snprintf(state.prog, sizeof(state.prog), "test_netdb");
    if (fakeip_init(cfg) != 0)
        abort();
}

/* ---- helpers ---- */

static const char *addr_text(const struct sockaddr *sa, char *buf)
{
    const void *a = sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return inet_ntop(sa->sa_family, a, buf, INET6_ADDRSTRLEN);
}

static uint16_t port_of(const struct addrinfo *ai)
{
    return ntohs(((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_port);
}

/* The distinct addresses of a list, in order, as "a b c". */
static const char *addrs(const struct addrinfo *ai, char *buf)
{
    char one[INET6_ADDRSTRLEN], last[INET6_ADDRSTRLEN] = "";

    buf[0] = '\0';
    for (; ai; ai = ai->ai_next) {
        addr_text(ai->ai_addr, one);
        if (strcmp(one, last) == 0)
            continue;
        if (buf[0])
            strcat(buf, " ");
        strcat(buf, one);
        strcpy(last, one);
    }
    return buf;
}

static int gai(const char *node, const char *serv, int family, int socktype, int flags,
               struct addrinfo **res)
{
    struct addrinfo h = {.ai_family = family, .ai_socktype = socktype, .ai_flags = flags};
    *res = NULL;
    return netdb_getaddrinfo(node, serv, &h, res);
}

/* The addresses NODE gets for FAMILY with SOCK_STREAM, or "EAI_..." text. */
static const char *lookup(const char *node, int family, int flags, char *buf)
{
    struct addrinfo *res;
    int rc = gai(node, NULL, family, SOCK_STREAM, flags, &res);

    if (rc) {
        snprintf(buf, 64, "rc=%d", rc);
        return buf;
    }
    addrs(res, buf);
    netdb_freeaddrinfo(res);
    return buf;
}

static bool in_fake4(const struct sockaddr *sa)
{
    const struct sockaddr_in *s = (const void *)sa;
    return sa->sa_family == AF_INET && (ntohl(s->sin_addr.s_addr) >> 17) == (0xC6120000u >> 17);
}

static bool in_fake6(const struct sockaddr *sa)
{
    const struct sockaddr_in6 *s = (const void *)sa;
    return sa->sa_family == AF_INET6 && s->sin6_addr.s6_addr[0] == 0xfc &&
           (s->sin6_addr.s6_addr[1] & 0xc0) == 0;
}

/* ---- gating ---- */

START_TEST(no_config_passes_to_libc)
{
    struct addrinfo *res, *real;

    state.active = false;
    ck_assert_int_eq(gai("192.0.2.7", "80", AF_INET, SOCK_STREAM, 0, &res), 0);
    ck_assert(!netdb_owns(res));
    ck_assert_int_eq(sys.getaddrinfo("192.0.2.7", "80", res, &real), 0);
    ck_assert_int_eq(memcmp(res->ai_addr, real->ai_addr, res->ai_addrlen), 0);
    netdb_freeaddrinfo(res);
    netdb_freeaddrinfo(real);
}
END_TEST

START_TEST(fail_closed_denies_everything)
{
    struct addrinfo *res = NULL;
    struct hostent he, *r = (void *)1;
    char buf[512], host[64];
    int herr = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0xC0000207)};

    state.active = false;
    state.broken = true;
    errno = 0;
    ck_assert_int_eq(gai("dual.test", "80", AF_UNSPEC, 0, 0, &res), EAI_SYSTEM);
    ck_assert_int_eq(errno, EACCES);
    ck_assert_ptr_null(res);
    ck_assert_int_eq(gai("192.0.2.7", NULL, AF_UNSPEC, 0, 0, &res), EAI_SYSTEM);
    ck_assert_int_eq(netdb_getnameinfo((struct sockaddr *)&sa, sizeof(sa), host, sizeof(host), NULL,
                                       0, NI_NUMERICHOST),
                     EAI_SYSTEM);
    h_errno = 0;
    ck_assert_ptr_null(netdb_gethostbyname("dual.test"));
    ck_assert_int_eq(h_errno, NO_RECOVERY);
    ck_assert_ptr_null(netdb_gethostbyname2("dual.test", AF_INET6));
    ck_assert_int_eq(netdb_gethostbyname2_r("dual.test", AF_INET, &he, buf, sizeof(buf), &r, &herr),
                     EACCES);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(herr, NO_RECOVERY);
    ck_assert_ptr_null(netdb_gethostbyaddr(&sa.sin_addr, 4, AF_INET));
}
END_TEST

/* ---- names answered by libc ---- */

START_TEST(numeric_names_are_libc_lists)
{
    const char *names[] = {"203.0.113.5", "2001:db8::5", "127.1", "0x7f.1", "fe80::1%1"};
    struct addrinfo *res, *real;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char a[512], b[512];
        ck_assert_msg(gai(names[i], "443", AF_UNSPEC, 0, 0, &res) == 0, "%s", names[i]);
        ck_assert_msg(!netdb_owns(res), "%s is libc's", names[i]);
        ck_assert_int_eq(sys.getaddrinfo(names[i], "443", res, &real), 0);
        ck_assert_str_eq(addrs(res, a), addrs(real, b));
        netdb_freeaddrinfo(res); /* a libc list through our free: handed on */
        sys.freeaddrinfo(real);
    }
    /* AI_NUMERICHOST with a name: libc says EAI_NONAME without asking anyone */
    ck_assert_int_eq(gai("dual.test", NULL, AF_UNSPEC, 0, AI_NUMERICHOST, &res), EAI_NONAME);
    ck_assert_int_eq(gai("::1", NULL, AF_INET, 0, 0, &res), EAI_ADDRFAMILY);
}
END_TEST

/* localhost never reaches glibc, which asks DNS for a family /etc/hosts lacks. */
START_TEST(localhost_is_loopback_here)
{
    struct addrinfo *res;
    struct hostent *he;
    char b[512];

    ck_assert_str_eq(lookup("localhost", AF_UNSPEC, 0, b), "127.0.0.1 ::1");
    ck_assert_str_eq(lookup("LOCALHOST.", AF_INET6, 0, b), "::1");
    ck_assert_str_eq(lookup("www.localhost", AF_INET, 0, b), "127.0.0.1");
    ck_assert_str_eq(lookup("localhost", AF_INET6, AI_V4MAPPED | AI_ALL, b),
                     "::ffff:127.0.0.1 ::1");
    /* even where the route blocks everything else or fakes names */
    ck_assert_str_eq(lookup("x.block.test.localhost", AF_INET, 0, b), "127.0.0.1");
    ck_assert_int_eq(gai("localhost", "80", AF_UNSPEC, 0, AI_CANONNAME, &res), 0);
    ck_assert(netdb_owns(res));
    ck_assert_str_eq(res->ai_canonname, "localhost");
    netdb_freeaddrinfo(res);
    he = netdb_gethostbyname2("localhost", AF_INET6);
    ck_assert_ptr_nonnull(he);
    ck_assert_int_eq(memcmp(he->h_addr_list[0], &in6addr_loopback, 16), 0);
}
END_TEST

/* ---- real mode: hosts file ---- */

START_TEST(hosts_name_expands_socktypes)
{
    static const int want[3][2] = {
        {SOCK_STREAM, IPPROTO_TCP}, {SOCK_DGRAM, IPPROTO_UDP}, {SOCK_RAW, 0}};
    struct addrinfo *res, *ai;
    char buf[INET6_ADDRSTRLEN];
    int i = 0;

    ck_assert_int_eq(gai("dual.test", "8080", AF_UNSPEC, 0, 0, &res), 0);
    ck_assert(netdb_owns(res));
    for (ai = res; ai; ai = ai->ai_next, i++) {
        ck_assert_int_eq(ai->ai_socktype, want[i % 3][0]);
        ck_assert_int_eq(ai->ai_protocol, want[i % 3][1]);
        ck_assert_int_eq(ai->ai_family, i < 3 ? AF_INET : AF_INET6);
        ck_assert_str_eq(addr_text(ai->ai_addr, buf), i < 3 ? "203.0.113.10" : "2001:db8::10");
        ck_assert_int_eq(port_of(ai), 8080);
        ck_assert_ptr_eq(ai->ai_addr, (void *)(ai + 1)); /* glibc's layout */
        ck_assert_int_eq(ai->ai_addrlen,
                         i < 3 ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
        ck_assert_ptr_null(ai->ai_canonname);
    }
    ck_assert_int_eq(i, 6);
    netdb_freeaddrinfo(res);
    ck_assert(!netdb_owns(res));
}
END_TEST

/* Our lists and libc's for the same address and hints have the same shape:
 * socktypes, protocols, ports, flags, and the same errors. */
START_TEST(hints_match_glibc)
{
    static const int socktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, 99};
    static const int protocols[] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP};
    static const char *services[] = {NULL, "80",    "http", "domain", "nosuch",
                                     "-1", "65536", "",     " 53"};
    static const int flags[] = {0, AI_NUMERICSERV, AI_PASSIVE, 0x10000};
    int cases = 0;

    for (size_t s = 0; s < 6; s++)
        for (size_t p = 0; p < 4; p++)
            for (size_t v = 0; v < 9; v++)
                for (size_t f = 0; f < 4; f++) {
                    struct addrinfo h = {.ai_family = AF_INET,
                                         .ai_socktype = socktypes[s],
                                         .ai_protocol = protocols[p],
                                         .ai_flags = flags[f]};
                    struct addrinfo *ours = NULL, *real = NULL, *a, *b;
                    int r1 = netdb_getaddrinfo("only4.test", services[v], &h, &ours);
                    int r2 = sys.getaddrinfo("203.0.113.30", services[v], &h, &real);
                    ck_assert_msg(r1 == r2, "st=%d pr=%d serv=%s fl=%#x: ours %d, glibc %d",
                                  socktypes[s], protocols[p], services[v] ? services[v] : "NULL",
                                  flags[f], r1, r2);
                    for (a = ours, b = real; a && b; a = a->ai_next, b = b->ai_next) {
                        ck_assert_int_eq(a->ai_socktype, b->ai_socktype);
                        ck_assert_int_eq(a->ai_protocol, b->ai_protocol);
                        ck_assert_int_eq(a->ai_flags, b->ai_flags);
                        ck_assert_int_eq(a->ai_addrlen, b->ai_addrlen);
                        ck_assert_int_eq(memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen), 0);
                    }
                    ck_assert_msg(!a && !b, "lists of different length");
                    if (!r1) {
                        netdb_freeaddrinfo(ours);
                        sys.freeaddrinfo(real);
                        cases++;
                    }
                }
    ck_assert_int_ge(cases, 20);
}
END_TEST

START_TEST(eai_codes)
{
    struct addrinfo *res;
    struct addrinfo h = {.ai_family = AF_UNIX};

    ck_assert_int_eq(gai("dual.test", "nosuch-service", AF_UNSPEC, 0, 0, &res), EAI_SERVICE);
    ck_assert_int_eq(gai("dual.test", "http", AF_UNSPEC, SOCK_DGRAM, 0, &res), EAI_SERVICE);
    ck_assert_int_eq(gai("dual.test", "http", AF_UNSPEC, 0, AI_NUMERICSERV, &res), EAI_NONAME);
    ck_assert_int_eq(gai("dual.test", NULL, AF_UNSPEC, 77, 0, &res), EAI_SOCKTYPE);
    ck_assert_int_eq(gai("dual.test", NULL, AF_UNSPEC, 0, 0x10000, &res), EAI_BADFLAGS);
    ck_assert_int_eq(gai(NULL, "80", AF_UNSPEC, 0, AI_CANONNAME, &res), EAI_BADFLAGS);
    ck_assert_int_eq(netdb_getaddrinfo("dual.test", NULL, &h, &res), EAI_FAMILY);
    h.ai_family = 12345;
    ck_assert_int_eq(netdb_getaddrinfo("dual.test", NULL, &h, &res), EAI_FAMILY);
    /* a name that can't be one: no query at all */
    ck_assert_int_eq(gai("bad name.test", NULL, AF_UNSPEC, 0, 0, &res), EAI_NONAME);
    ck_assert_int_eq(gai("", "80", AF_UNSPEC, 0, 0, &res), EAI_NONAME);
    /* in no hosts file: the server is refused, which is a server failure */
    ck_assert_int_eq(gai("absent.test", NULL, AF_UNSPEC, 0, 0, &res), EAI_AGAIN);
    /* the hosts file has no address of the family: the server is asked (and refuses) */
    ck_assert_int_eq(gai("only6.test", NULL, AF_INET, 0, 0, &res), EAI_AGAIN);
}
END_TEST

START_TEST(null_hints_are_glibcs_defaults)
{
    struct addrinfo *res;

    ck_assert_int_eq(netdb_getaddrinfo("dual.test", "80", NULL, &res), 0);
    ck_assert_int_eq(res->ai_flags, AI_V4MAPPED | AI_ADDRCONFIG);
    ck_assert_int_eq(res->ai_socktype, SOCK_STREAM);
    netdb_freeaddrinfo(res);
}
END_TEST

START_TEST(canonname)
{
    struct addrinfo *res;

    ck_assert_int_eq(gai("dual-alias.test", "80", AF_UNSPEC, 0, AI_CANONNAME, &res), 0);
    ck_assert_ptr_nonnull(res->ai_canonname);
    ck_assert_str_eq(res->ai_canonname, "dual.test"); /* the hosts line's first name */
    for (struct addrinfo *ai = res->ai_next; ai; ai = ai->ai_next)
        ck_assert_ptr_null(ai->ai_canonname);
    netdb_freeaddrinfo(res);
    ck_assert_int_eq(gai("x.fake.test", "80", AF_UNSPEC, 0, AI_CANONNAME, &res), 0);
    ck_assert_str_eq(res->ai_canonname, "x.fake.test");
    netdb_freeaddrinfo(res);
}
END_TEST

START_TEST(v4mapped)
{
    char b[512];

    ck_assert_str_eq(lookup("only4.test", AF_INET6, AI_V4MAPPED, b), "::ffff:203.0.113.30");
    ck_assert_str_eq(lookup("dual.test", AF_INET6, AI_V4MAPPED, b), "2001:db8::10");
    ck_assert_str_eq(lookup("dual.test", AF_INET6, AI_V4MAPPED | AI_ALL, b),
                     "::ffff:203.0.113.10 2001:db8::10");
    /* AI_V4MAPPED means nothing to an AF_UNSPEC or AF_INET query */
    ck_assert_str_eq(lookup("only4.test", AF_UNSPEC, AI_V4MAPPED, b), "203.0.113.30");
    ck_assert_str_eq(lookup("only4.test", AF_INET, AI_V4MAPPED, b), "203.0.113.30");
}
END_TEST

START_TEST(strategies)
{
    char b[512];

    ck_assert_str_eq(lookup("www.v4.test", AF_UNSPEC, 0, b), "203.0.113.20");
    ck_assert_str_eq(lookup("www.v6.test", AF_UNSPEC, 0, b), "2001:db8::20");
    ck_assert_str_eq(lookup("www.p6.test", AF_UNSPEC, 0, b), "2001:db8::20 203.0.113.20");
    ck_assert_str_eq(lookup("dual.test", AF_UNSPEC, 0, b), "203.0.113.10 2001:db8::10");
    /* the dialer's domain_strategy wins over its resolver's as_is */
    ck_assert_str_eq(lookup("www.o4.test", AF_UNSPEC, 0, b), "203.0.113.20");
    /* a family the strategy rules out */
    ck_assert_str_eq(lookup("www.v6.test", AF_INET, 0, b), "rc=-2");
    ck_assert_str_eq(lookup("www.v4.test", AF_INET6, 0, b), "rc=-2");
    /* ... unless IPv4 may come mapped */
    ck_assert_str_eq(lookup("www.v4.test", AF_INET6, AI_V4MAPPED, b), "::ffff:203.0.113.20");
}
END_TEST

START_TEST(block_is_eai_fail)
{
    struct addrinfo *res;
    struct hostent he, *r;
    char buf[512];
    int herr;

    ck_assert_int_eq(gai("x.block.test", "80", AF_UNSPEC, 0, 0, &res), EAI_FAIL);
    ck_assert_int_eq(gai("dual.test", "9999", AF_UNSPEC, 0, 0, &res), EAI_FAIL);
    ck_assert_int_eq(gai("dual.test", "9998", AF_UNSPEC, 0, 0, &res), 0);
    netdb_freeaddrinfo(res);
    h_errno = 0;
    ck_assert_ptr_null(netdb_gethostbyname("x.block.test"));
    ck_assert_int_eq(h_errno, NO_RECOVERY);
    ck_assert_int_ne(
        netdb_gethostbyname2_r("x.block.test", AF_INET, &he, buf, sizeof(buf), &r, &herr), 0);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(herr, NO_RECOVERY);
}
END_TEST

/* ---- fake_ip mode ---- */

START_TEST(fake_addresses_in_range_and_stable)
{
    struct addrinfo *a, *b, *c;

    ck_assert_int_eq(gai("one.fake.test", "443", AF_UNSPEC, SOCK_STREAM, 0, &a), 0);
    ck_assert(netdb_owns(a));
    ck_assert_ptr_nonnull(a->ai_next);
    ck_assert(in_fake4(a->ai_addr)); /* as_is: IPv4 first */
    ck_assert(in_fake6(a->ai_next->ai_addr));
    ck_assert_ptr_null(a->ai_next->ai_next);
    ck_assert_int_eq(port_of(a), 443);
    ck_assert(fakeip_is_fake(a->ai_addr, a->ai_addrlen));
    ck_assert_int_eq(gai("ONE.fake.test.", "80", AF_UNSPEC, SOCK_STREAM, 0, &b), 0);
    ck_assert_int_eq(memcmp(&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr,
                            &((struct sockaddr_in *)(void *)b->ai_addr)->sin_addr, 4),
                     0);
    ck_assert_int_eq(gai("two.fake.test", "443", AF_INET, SOCK_STREAM, 0, &c), 0);
    ck_assert_ptr_null(c->ai_next);
    ck_assert(in_fake4(c->ai_addr));
    ck_assert_int_ne(memcmp(a->ai_addr, c->ai_addr, a->ai_addrlen), 0);
    netdb_freeaddrinfo(a);
    netdb_freeaddrinfo(b);
    netdb_freeaddrinfo(c);
    ck_assert_int_eq(gai("one.fake.test", NULL, AF_INET6, SOCK_STREAM, 0, &a), 0);
    ck_assert(in_fake6(a->ai_addr));
    ck_assert_ptr_null(a->ai_next);
    netdb_freeaddrinfo(a);
}
END_TEST

START_TEST(fake_strategy_and_hosts)
{
    struct addrinfo *a;
    char b[512];

    /* ipv4_only: one IPv4 fake, none for AF_INET6 unless mapped */
    ck_assert_int_eq(gai("x.f4.test", NULL, AF_UNSPEC, SOCK_STREAM, 0, &a), 0);
    ck_assert(in_fake4(a->ai_addr));
    ck_assert_ptr_null(a->ai_next);
    netdb_freeaddrinfo(a);
    ck_assert_int_eq(gai("x.f4.test", NULL, AF_INET6, SOCK_STREAM, 0, &a), EAI_NONAME);
    ck_assert_int_eq(gai("x.f4.test", NULL, AF_INET6, SOCK_STREAM, AI_V4MAPPED, &a), 0);
    ck_assert_int_eq(a->ai_family, AF_INET6);
    ck_assert(fakeip_is_fake(a->ai_addr, a->ai_addrlen)); /* ::ffff:198.18.x.y */
    netdb_freeaddrinfo(a);
    /* prefer_ipv6: IPv6 first */
    ck_assert_int_eq(gai("x.f6p.test", NULL, AF_UNSPEC, SOCK_STREAM, 0, &a), 0);
    ck_assert(in_fake6(a->ai_addr));
    ck_assert(in_fake4(a->ai_next->ai_addr));
    netdb_freeaddrinfo(a);
    /* a name in the hosts file keeps its real addresses */
    ck_assert_str_eq(lookup("www.fake.test", AF_UNSPEC, 0, b), "203.0.113.50 2001:db8::50");
    /* a socks5 dialer with remote_dns defaults to fake_ip, without it to real */
    ck_assert_int_eq(gai("x.sox.test", NULL, AF_INET, SOCK_STREAM, 0, &a), 0);
    ck_assert(in_fake4(a->ai_addr));
    netdb_freeaddrinfo(a);
    ck_assert_int_eq(gai("x.soxreal.test", NULL, AF_INET, SOCK_STREAM, 0, &a), EAI_AGAIN);
}
END_TEST

START_TEST(reverse_of_fake_addresses)
{
    struct addrinfo *a;
    char host[NI_MAXHOST], serv[NI_MAXSERV], num[INET6_ADDRSTRLEN];
    struct sockaddr_in unused = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0xC613FFF0)};
    struct hostent *he;

    ck_assert_int_eq(gai("rev.fake.test", "80", AF_UNSPEC, SOCK_STREAM, 0, &a), 0);
    for (struct addrinfo *ai = a; ai; ai = ai->ai_next) {
        ck_assert_int_eq(netdb_getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), serv,
                                           sizeof(serv), NI_NAMEREQD),
                         0);
        ck_assert_str_eq(host, "rev.fake.test");
        ck_assert_str_eq(serv, "http");
        ck_assert_int_eq(netdb_getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), serv,
                                           sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV),
                         0);
        ck_assert_str_eq(host, addr_text(ai->ai_addr, num));
        ck_assert_str_eq(serv, "80");
        ck_assert_int_eq(netdb_getnameinfo(ai->ai_addr, ai->ai_addrlen, host, 5, NULL, 0, 0),
                         EAI_OVERFLOW);
    }
    he = netdb_gethostbyaddr(&((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr, 4, AF_INET);
    ck_assert_ptr_nonnull(he);
    ck_assert_str_eq(he->h_name, "rev.fake.test");
    ck_assert_int_eq(he->h_length, 4);
    ck_assert_int_eq(
        memcmp(he->h_addr_list[0], &((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr, 4), 0);
    ck_assert_ptr_null(he->h_addr_list[1]);
    netdb_freeaddrinfo(a);
    /* a fake address never handed out: no name, and no DNS asked about it */
    ck_assert_int_eq(netdb_getnameinfo((struct sockaddr *)&unused, sizeof(unused), host,
                                       sizeof(host), NULL, 0, NI_NAMEREQD),
                     EAI_NONAME);
    ck_assert_int_eq(netdb_getnameinfo((struct sockaddr *)&unused, sizeof(unused), host,
                                       sizeof(host), NULL, 0, 0),
                     0);
    ck_assert_str_eq(host, "198.19.255.240");
    h_errno = 0;
    ck_assert_ptr_null(netdb_gethostbyaddr(&unused.sin_addr, 4, AF_INET));
    ck_assert_int_eq(h_errno, HOST_NOT_FOUND);
}
END_TEST

/* ---- gethostbyname* ---- */

START_TEST(gethostbyname_forms)
{
    struct hostent *he, ret, *r;
    char buf[1024], small[16], text[INET6_ADDRSTRLEN];
    int herr;

    he = netdb_gethostbyname("dual-alias.test");
    ck_assert_ptr_nonnull(he);
    ck_assert_str_eq(he->h_name, "dual.test");
    ck_assert_str_eq(he->h_aliases[0], "dual-alias.test");
    ck_assert_ptr_null(he->h_aliases[1]);
    ck_assert_int_eq(he->h_addrtype, AF_INET);
    ck_assert_int_eq(he->h_length, 4);
    ck_assert_str_eq(inet_ntop(AF_INET, he->h_addr_list[0], text, sizeof(text)), "203.0.113.10");
    ck_assert_ptr_null(he->h_addr_list[1]);

    he = netdb_gethostbyname2("dual.test", AF_INET6);
    ck_assert_ptr_nonnull(he);
    ck_assert_ptr_null(he->h_aliases[0]);
    ck_assert_int_eq(he->h_length, 16);
    ck_assert_str_eq(inet_ntop(AF_INET6, he->h_addr_list[0], text, sizeof(text)), "2001:db8::10");

    ck_assert_int_eq(netdb_gethostbyname_r("dual.test", &ret, buf, sizeof(buf), &r, &herr), 0);
    ck_assert_ptr_eq(r, &ret);
    ck_assert_str_eq(inet_ntop(AF_INET, r->h_addr_list[0], text, sizeof(text)), "203.0.113.10");
    ck_assert_int_eq(
        netdb_gethostbyname2_r("www.p6.test", AF_INET6, &ret, buf, sizeof(buf), &r, &herr), 0);
    ck_assert_int_eq(r->h_addrtype, AF_INET6);

    /* too small a buffer: ERANGE, as glibc, so the caller retries bigger */
    ck_assert_int_eq(
        netdb_gethostbyname2_r("dual.test", AF_INET, &ret, small, sizeof(small), &r, &herr),
        ERANGE);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(herr, NETDB_INTERNAL);

    /* unknown: NULL with HOST_NOT_FOUND; a dead server: TRY_AGAIN */
    h_errno = 0;
    ck_assert_ptr_null(netdb_gethostbyname("bad name.test"));
    ck_assert_int_eq(h_errno, HOST_NOT_FOUND);
    ck_assert_int_eq(netdb_gethostbyname_r("bad name.test", &ret, buf, sizeof(buf), &r, &herr), 0);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(herr, HOST_NOT_FOUND);
    ck_assert_ptr_null(netdb_gethostbyname("absent.test"));
    ck_assert_int_eq(h_errno, TRY_AGAIN);

    /* fake mode: a fake address */
    he = netdb_gethostbyname("g.fake.test");
    ck_assert_ptr_nonnull(he);
    ck_assert(fakeip_is_fake_addr(AF_INET, he->h_addr_list[0]));

    /* digits: glibc's own answer */
    he = netdb_gethostbyname("192.0.2.9");
    ck_assert_ptr_nonnull(he);
    ck_assert_str_eq(inet_ntop(AF_INET, he->h_addr_list[0], text, sizeof(text)), "192.0.2.9");
}
END_TEST

/* ---- freeaddrinfo ---- */

START_TEST(free_ours_and_libcs_interleaved)
{
    enum { N = 600 };
    static struct addrinfo *lists[N];
    char node[64];

    for (int i = 0; i < N; i++) {
        if (i % 3 == 0)
            snprintf(node, sizeof(node), "192.0.2.%d", i % 250 + 1);
        else
            snprintf(node, sizeof(node), "%s", i % 3 == 1 ? "dual.test" : "n.fake.test");
        ck_assert_int_eq(gai(node, "80", AF_UNSPEC, 0, 0, &lists[i]), 0);
        ck_assert(netdb_owns(lists[i]) == (i % 3 != 0));
    }
    /* free in an order unlike the allocation order, checking the set stays exact */
    for (int k = 0; k < N; k++) {
        int i = (k * 7) % N;
        netdb_freeaddrinfo(lists[i]);
        ck_assert(!netdb_owns(lists[i]) || i % 3 == 0);
        for (int j = k + 1; j < N && j < k + 8; j++) {
            int o = (j * 7) % N;
            ck_assert(netdb_owns(lists[o]) == (o % 3 != 0));
        }
    }
    netdb_freeaddrinfo(NULL);
}
END_TEST

/* ---- threads ---- */

static void *worker(void *arg)
{
    long id = (long)arg, bad = 0;
    char node[64];

    for (int i = 0; i < 300; i++) {
        struct addrinfo *res;
        struct hostent he, *r;
        char buf[1024];
        int herr;

        snprintf(node, sizeof(node), i % 2 ? "dual.test" : "t%ld-%d.fake.test", id, i % 20);
        if (gai(node, "80", AF_UNSPEC, SOCK_STREAM, 0, &res) != 0 || !netdb_owns(res))
            bad++;
        else
            netdb_freeaddrinfo(res);
        if (netdb_gethostbyname_r("dual.test", &he, buf, sizeof(buf), &r, &herr) != 0 || !r)
            bad++;
        if (!netdb_gethostbyname("www.v4.test"))
            bad++;
    }
    return (void *)bad;
}

START_TEST(threads_at_once)
{
    pthread_t t[16];

    for (long i = 0; i < 16; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 16; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        ck_assert_int_eq((long)bad, 0);
    }
}
END_TEST

/* ---- AI_ADDRCONFIG ---- */

/* In a fresh network namespace (loopback only), then with an IPv4 address on lo. */
static int addrconfig_child(void)
{
    char b[512];
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    int fd;

    if (unshare(CLONE_NEWNET) != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
        return 77;
    /* no address but loopback: AF_UNSPEC is left alone, a named family has none */
    if (strcmp(lookup("dual.test", AF_UNSPEC, AI_ADDRCONFIG, b), "203.0.113.10 2001:db8::10"))
        return 1;
    if (strcmp(lookup("dual.test", AF_INET, AI_ADDRCONFIG, b), "rc=-2"))
        return 2;
    if (strcmp(lookup("dual.test", AF_INET6, AI_ADDRCONFIG, b), "rc=-2"))
        return 3;
    if (strcmp(lookup("dual.test", AF_INET, 0, b), "203.0.113.10"))
        return 4;
    /* an IPv4 address (not loopback) and no IPv6: AF_UNSPEC narrows to IPv4 */
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || ioctl(fd, SIOCSIFADDR, &ifr) != 0)
        return 77;
    close(fd);
    if (strcmp(lookup("dual.test", AF_UNSPEC, AI_ADDRCONFIG, b), "203.0.113.10"))
        return 5;
    if (strcmp(lookup("dual.test", AF_INET6, AI_ADDRCONFIG | AI_V4MAPPED, b), "rc=-2"))
        return 6;
    return 0;
}

START_TEST(addrconfig)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(addrconfig_child());
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        fprintf(stderr, "test_netdb: addrconfig skipped (no network namespace)\n");
        return;
    }
    ck_assert_msg(WEXITSTATUS(status) == 0, "check %d failed", WEXITSTATUS(status));
}
END_TEST

/* ---- the log ---- */

START_TEST(one_log_line_per_lookup)
{
    struct addrinfo *res;
    char buf[4096];
    FILE *f;
    size_t n;
    int lines = 0;

    ck_assert_int_eq(log_open(LOG_LVL_INFO, log_path), 0);
    ck_assert_int_eq(gai("dual.test", "80", AF_UNSPEC, SOCK_STREAM, 0, &res), 0);
    netdb_freeaddrinfo(res);
    ck_assert_int_eq(gai("x.block.test", "80", AF_UNSPEC, SOCK_STREAM, 0, &res), EAI_FAIL);
    ck_assert_int_eq(gai("203.0.113.1", "80", AF_UNSPEC, SOCK_STREAM, 0, &res), 0);
    netdb_freeaddrinfo(res); /* numeric: not routed, not logged at info */
    log_open(LOG_LVL_WARN, "stderr");
    f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        lines += buf[i] == '\n';
    ck_assert_int_eq(lines, 2);
    ck_assert_msg(strstr(buf, "getaddrinfo dual.test app=test rule=default dialer=d_hosts "
                              "resolver=hosts mode=real strategy=as_is result=ok "
                              "203.0.113.10,2001:db8::10 from hosts"),
                  "%s", buf);
    ck_assert_msg(strstr(buf, "x.block.test app=test rule=#1 domain:*.block.test dialer=block"),
                  "%s", buf);
    ck_assert_msg(strstr(buf, "result=EAI_FAIL"), "%s", buf);
}
END_TEST

/* resq_answer: the DNS message res_query gets for fake addresses. */
START_TEST(res_answer_layout)
{
    /* question: www.test A IN */
    static const uint8_t q[] = {3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    struct dns_addr a[2] = {{.family = AF_INET}, {.family = AF_INET}};
    uint8_t out[128];
    inet_pton(AF_INET, "198.18.0.1", a[0].addr);
    inet_pton(AF_INET, "198.18.0.2", a[1].addr);

    int n = resq_answer(0xbeef, true, q, sizeof(q), a, 2, out, sizeof(out));
    ck_assert_int_eq(n, 12 + (int)sizeof(q) + 2 * 16);
    ck_assert_uint_eq(out[0] << 8 | out[1], 0xbeef);
    ck_assert_uint_eq(out[2], 0x81); /* QR, RD */
    ck_assert_uint_eq(out[3], 0x80); /* RA, NOERROR */
    ck_assert_uint_eq(out[5], 1);    /* one question */
    ck_assert_uint_eq(out[7], 2);    /* two answers */
    ck_assert_mem_eq(out + 12, q, sizeof(q));
    const uint8_t *rr = out + 12 + sizeof(q);
    static const uint8_t rr1[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, RESQ_TTL, 0, 4, 198, 18, 0, 1};
    ck_assert_mem_eq(rr, rr1, sizeof(rr1));
    ck_assert_uint_eq(rr[16 + 15], 2);

    /* room for one answer: TC set, one answer counted */
    n = resq_answer(7, false, q, sizeof(q), a, 2, out, 12 + sizeof(q) + 20);
    ck_assert_int_eq(n, 12 + (int)sizeof(q) + 16);
    ck_assert_uint_eq(out[2], 0x82);
    ck_assert_uint_eq(out[7], 1);
    /* no room for the question */
    ck_assert_int_eq(resq_answer(7, false, q, sizeof(q), a, 2, out, 20), -1);
}
END_TEST

int main(void)
{
    sys_init_default();
    int fd = mkstemp(log_path);
    if (fd < 0)
        return EXIT_FAILURE;
    close(fd);
    global_setup();

    Suite *s = suite_create("netdb");
    TCase *gate = tcase_create("gating");
    TCase *real = tcase_create("real");
    TCase *fake = tcase_create("fake_ip");
    TCase *misc = tcase_create("lists and threads");

    tcase_add_test(gate, no_config_passes_to_libc);
    tcase_add_test(gate, fail_closed_denies_everything);
    tcase_add_test(gate, numeric_names_are_libc_lists);
    tcase_add_test(gate, localhost_is_loopback_here);
    tcase_add_test(gate, res_answer_layout);

    tcase_set_timeout(real, 30);
    tcase_add_test(real, hosts_name_expands_socktypes);
    tcase_add_test(real, hints_match_glibc);
    tcase_add_test(real, eai_codes);
    tcase_add_test(real, null_hints_are_glibcs_defaults);
    tcase_add_test(real, canonname);
    tcase_add_test(real, v4mapped);
    tcase_add_test(real, strategies);
    tcase_add_test(real, block_is_eai_fail);
    tcase_add_test(real, gethostbyname_forms);
    tcase_add_test(real, addrconfig);

    tcase_add_test(fake, fake_addresses_in_range_and_stable);
    tcase_add_test(fake, fake_strategy_and_hosts);
    tcase_add_test(fake, reverse_of_fake_addresses);

    tcase_set_timeout(misc, 60);
    tcase_add_test(misc, free_ours_and_libcs_interleaved);
    tcase_add_test(misc, threads_at_once);
    tcase_add_test(misc, one_log_line_per_lookup);

    suite_add_tcase(s, gate);
    suite_add_tcase(s, real);
    suite_add_tcase(s, fake);
    suite_add_tcase(s, misc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    unlink(hosts_path);
    unlink(log_path);
    conf_free(cfg);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
