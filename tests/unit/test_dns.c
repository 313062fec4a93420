/* dns: local answers, hosts files, and real queries to a dnsmasq on loopback.
 *
 * Network safety: every resolver here has explicit 127.0.0.1 servers (dnsmasq on a
 * random high port, a closed port, or a silent socket of ours); the built-in
 * resolver is only asked numeric names and localhost, which never leave the
 * process. Names and addresses are from the documentation ranges.
 */
#include "common/dns.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DNSMASQ "/usr/sbin/dnsmasq"

enum { R_DNSMASQ, R_NOCACHE, R_DEAD, R_SILENT, R_SECOND, R_HOSTS, R_DETOUR, R_REFUSED, NRES };
enum { D_BIND, D_BADIF, NDIAL };

static struct conf cfg;
static struct conf_resolver res[NRES];
static struct conf_dialer dial[NDIAL];
static pid_t dm_pid = -1;
static int dm_port, dead_port, silent_fd = -1;
static char dm_log[] = "/tmp/test_dns_dnsmasq.XXXXXX";

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A loopback UDP socket on a kernel-chosen port; *PORT gets the port. */
static int udp_socket(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A port nothing listens on (UDP and TCP), for dnsmasq or for a dead server. */
static int free_port(void)
{
    for (int tries = 0; tries < 20; tries++) {
        int port, u = udp_socket(&port);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = bind(t, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(t);
        close(u);
        if (ok && port > 1024)
            return port;
    }
    ck_abort_msg("no free loopback port");
    return -1;
}

static void resolver_init(struct conf_resolver *r, const char *name)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->strategy = STRATEGY_AS_IS;
    r->timeout_ms = 500;
    r->attempts = 2;
    r->detour = -1;
    r->cache = true;
    r->mode = RESOLVER_MODE_REAL;
}

static void add_server(struct conf_resolver *r, int port)
{
    struct conf_addr *a = &r->servers[r->n_servers++];
    memset(a, 0, sizeof(*a));
    a->u.in4.sin_family = AF_INET;
    a->u.in4.sin_port = htons((uint16_t)port);
    a->u.in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->len = sizeof(a->u.in4);
}

static void dialer_init(struct conf_dialer *d, const char *name)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->type = DIALER_DIRECT;
    d->detour = -1;
    d->domain_resolver = -1;
}

/* The configuration every test sees. dnsmasq's port is chosen here but the server
 * only runs in the tests that start it. */
static void conf_setup(void)
{
    memset(&cfg, 0, sizeof(cfg));
    dm_port = free_port();
    dead_port = free_port();
    silent_fd = udp_socket(&(int){0});
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    getsockname(silent_fd, (struct sockaddr *)&a, &len);

    resolver_init(&res[R_DNSMASQ], "dnsmasq");
    add_server(&res[R_DNSMASQ], dm_port);
    resolver_init(&res[R_NOCACHE], "nocache");
    add_server(&res[R_NOCACHE], dm_port);
    res[R_NOCACHE].cache = false;
    resolver_init(&res[R_DEAD], "dead");
    add_server(&res[R_DEAD], dead_port);
    resolver_init(&res[R_SILENT], "silent");
    add_server(&res[R_SILENT], ntohs(a.sin_port));
    res[R_SILENT].timeout_ms = 300;
    resolver_init(&res[R_SECOND], "second");
    add_server(&res[R_SECOND], dead_port);
    add_server(&res[R_SECOND], dm_port);
    resolver_init(&res[R_HOSTS], "hosts");
    add_server(&res[R_HOSTS], dead_port);
    resolver_init(&res[R_DETOUR], "detour");
    add_server(&res[R_DETOUR], dm_port);
    res[R_DETOUR].detour = D_BIND;
    res[R_DETOUR].cache = false;
    resolver_init(&res[R_REFUSED], "refused");
    add_server(&res[R_REFUSED], dm_port);
    res[R_REFUSED].detour = D_BADIF;

    dialer_init(&dial[D_BIND], "bind");
    dial[D_BIND].has_inet4_bind = true;
    inet_pton(AF_INET, "127.0.0.2", &dial[D_BIND].inet4_bind);
    dialer_init(&dial[D_BADIF], "badif");
    snprintf(dial[D_BADIF].bind_interface, IF_NAMESIZE, "nosuchif0");

    cfg.resolvers = res;
    cfg.n_resolvers = NRES;
    cfg.dialers = dial;
    cfg.n_dialers = NDIAL;
}

static void conf_teardown(void)
{
    if (silent_fd >= 0)
        close(silent_fd);
    silent_fd = -1;
}

/* ---- dnsmasq ---- */

#define BIG_A    40 /* A records of big.example: more than a UDP reply holds */
#define BIG_AAAA 4

static void dm_exec(void)
{
    static char port[32], rec[BIG_A + BIG_AAAA][64];
    const char *argv[32 + BIG_A + BIG_AAAA] = {DNSMASQ,
                                               "--no-daemon",
                                               "--conf-file=/dev/null",
                                               "--no-resolv",
                                               "--no-hosts",
                                               "--pid-file=",
                                               port,
                                               "--listen-address=127.0.0.1",
                                               "--bind-interfaces",
                                               "--log-queries",
                                               "--local-ttl=60",
                                               "--address=/a.example/203.0.113.7",
                                               "--address=/a.example/2001:db8::7",
                                               "--address=/b.example/203.0.113.8",
                                               "--host-record=t.example,203.0.113.20",
                                               "--cname=c.example,t.example",
                                               "--local=/example/"};
    int n = 0, fd = open(dm_log, O_WRONLY | O_APPEND);

    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test must not leave it running */
    while (argv[n])
        n++;
    snprintf(port, sizeof(port), "--port=%d", dm_port);
    for (int i = 0; i < BIG_A + BIG_AAAA; i++) {
        if (i < BIG_A)
            snprintf(rec[i], sizeof(rec[i]), "--host-record=big.example,203.0.113.%d", 100 + i);
        else
            snprintf(rec[i], sizeof(rec[i]), "--host-record=big.example,2001:db8::%d", 100 + i);
        argv[n++] = rec[i];
    }
    argv[n] = NULL;
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    execv(DNSMASQ, (char *const *)argv);
    _exit(127);
}

static void dm_stop(void)
{
    if (dm_pid <= 0)
        return;
    kill(dm_pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(dm_pid, NULL, WNOHANG) == 0; i++)
        sleep_ms(20);
    if (waitpid(dm_pid, NULL, WNOHANG) == 0) {
        kill(dm_pid, SIGKILL);
        waitpid(dm_pid, NULL, 0);
    }
    dm_pid = -1;
}

static void dm_start(void)
{
    struct dns_answer ans;

    conf_setup();
    int fd = mkstemp(dm_log);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dm_pid = fork();
    ck_assert_int_ge(dm_pid, 0);
    if (dm_pid == 0)
        dm_exec();
    /* ready when it answers; the uncached resolver leaves the cache empty */
    for (int64_t end = ms_now() + 5000; ms_now() < end; sleep_ms(50))
        if (dns_lookup(&cfg, R_NOCACHE, "t.example", AF_INET, &ans) == 0)
            return;
    dm_stop();
    ck_abort_msg("dnsmasq did not come up on port %d", dm_port);
}

static void dm_teardown(void)
{
    dm_stop();
    unlink(dm_log);
    conf_teardown();
}

/* Whether dnsmasq logged WHAT within a second (it logs each query it gets). */
static bool dm_logged(const char *what)
{
    char buf[65536];

    for (int i = 0; i < 50; i++, sleep_ms(20)) {
        FILE *f = fopen(dm_log, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (strstr(buf, what))
            return true;
    }
    return false;
}

/* ---- helpers ---- */

static const char *addr_text(const struct dns_addr *a, char *buf)
{
    return inet_ntop(a->family, a->addr, buf, INET6_ADDRSTRLEN);
}

/* The answer's addresses as "a b c". */
static const char *addrs(const struct dns_answer *ans, char *buf)
{
    char one[INET6_ADDRSTRLEN];
    buf[0] = '\0';
    for (size_t i = 0; i < ans->n; i++) {
        if (i)
            strcat(buf, " ");
        strcat(buf, addr_text(&ans->addrs[i], one));
    }
    return buf;
}

static int look(int resolver, const char *name, int family, struct dns_answer *ans, char *buf)
{
    int rc = dns_lookup(&cfg, resolver, name, family, ans);
    addrs(ans, buf);
    return rc;
}

/* ---- local answers ---- */

START_TEST(numeric_names)
{
    struct dns_answer ans;
    char b[512];

    ck_assert_int_eq(look(R_DEAD, "203.0.113.5", AF_UNSPEC, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.5");
    ck_assert_int_eq(ans.source, DNS_SRC_NUMERIC);
    ck_assert_uint_eq(ans.ttl, 0);
    ck_assert_str_eq(ans.canonname, "203.0.113.5");
    ck_assert_int_eq(look(R_DEAD, "127.1", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "127.0.0.1");
    ck_assert_int_eq(look(R_DEAD, "2001:db8::1", AF_INET6, &ans, b), 0);
    ck_assert_str_eq(b, "2001:db8::1");
    ck_assert_int_eq(look(R_DEAD, "2001:db8::1", AF_INET, &ans, b), EAI_ADDRFAMILY);
    ck_assert_uint_eq(ans.n, 0);
    ck_assert_int_eq(look(R_DEAD, "198.51.100.1", AF_INET6, &ans, b), EAI_ADDRFAMILY);
    ck_assert_int_eq(look(R_DEAD, "fe80::1%lo", AF_UNSPEC, &ans, b), 0);
    ck_assert_uint_eq(ans.addrs[0].scope_id, if_nametoindex("lo"));
    ck_assert_int_eq(look(R_DEAD, "fe80::1%3", AF_UNSPEC, &ans, b), 0);
    ck_assert_uint_eq(ans.addrs[0].scope_id, 3);
    ck_assert_int_eq(look(R_DEAD, "fe80::1%nosuchif0", AF_UNSPEC, &ans, b), EAI_NONAME);
    /* the built-in resolver answers numbers without reading any configuration */
    ck_assert_int_eq(dns_lookup(NULL, -1, "192.0.2.1", AF_UNSPEC, &ans), 0);
    ck_assert_int_eq(ans.source, DNS_SRC_NUMERIC);
}
END_TEST

START_TEST(localhost_names)
{
    struct dns_answer ans;
    char b[512];

    ck_assert_int_eq(look(R_DEAD, "localhost", AF_UNSPEC, &ans, b), 0);
    ck_assert_str_eq(b, "127.0.0.1 ::1");
    ck_assert_int_eq(ans.source, DNS_SRC_LOCALHOST);
    ck_assert_str_eq(ans.canonname, "localhost");
    ck_assert_int_eq(look(R_DEAD, "LocalHost.", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "127.0.0.1");
    ck_assert_int_eq(look(R_DEAD, "app.localhost", AF_INET6, &ans, b), 0);
    ck_assert_str_eq(b, "::1");
    ck_assert_int_eq(dns_lookup(NULL, -1, "localhost", AF_INET, &ans), 0);
    ck_assert_int_eq(ans.source, DNS_SRC_LOCALHOST);
    /* only whole labels: this one goes to the (dead) server */
    ck_assert_int_eq(look(R_DEAD, "notlocalhost", AF_INET, &ans, b), EAI_AGAIN);
}
END_TEST

START_TEST(bad_input)
{
    struct dns_answer ans;
    char label[80], name[300];

    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, "", AF_UNSPEC, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, NULL, AF_UNSPEC, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, "a..example", AF_UNSPEC, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, "a b.example", AF_UNSPEC, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, ".", AF_UNSPEC, &ans), EAI_NONAME);
    memset(label, 'x', 64);
    snprintf(label + 64, 16, ".example");
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, label, AF_UNSPEC, &ans), EAI_NONAME);
    memset(name, 'a', sizeof(name));
    for (int i = 50; i < 290; i += 50)
        name[i] = '.';
    name[290] = '\0';
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, name, AF_UNSPEC, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, "a.example", 99, &ans), EAI_FAMILY);
    ck_assert_int_eq(dns_lookup(&cfg, NRES, "a.example", AF_UNSPEC, &ans), EAI_FAIL);
    ck_assert_int_eq(dns_lookup(NULL, 0, "a.example", AF_UNSPEC, &ans), EAI_FAIL);
    ck_assert_ptr_null(dns_resolver(&cfg, NRES));
    ck_assert_str_eq(dns_resolver(NULL, -1)->hosts_file, "/etc/hosts");
    ck_assert_uint_eq(dns_resolver(NULL, -1)->timeout_ms, 2000);
    ck_assert_str_eq(dns_source_name(DNS_SRC_CACHE), "cache");
}
END_TEST

static void write_hosts(char *path)
{
    char big[1300];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    fprintf(f, "# a comment\n"
               "203.0.113.10\th1.example h1alias   # trailing comment\n"
               "2001:db8::10 h1.example\n"
               "198.51.100.20 H2.Example.\n"
               "not-an-address h4.example\n"
               "\n"
               "   \n");
    fprintf(f, "203.0.113.30 %s h3.example\n", big); /* overlong: ignored whole */
    fprintf(f, "192.0.2.40 h5.example\n192.0.2.41 h5.example\n192.0.2.40 h5.example\n"
               "192.0.2.50 last.example"); /* no final newline */
    fclose(f);
}

START_TEST(custom_hosts_file)
{
    struct dns_answer ans;
    char path[] = "/tmp/test_dns_hosts.XXXXXX", b[512];

    write_hosts(path);
    snprintf(res[R_HOSTS].hosts_file, CONF_PATH_MAX, "%s", path);
    ck_assert_int_eq(look(R_HOSTS, "h1.example", AF_UNSPEC, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.10 2001:db8::10");
    ck_assert_int_eq(ans.source, DNS_SRC_HOSTS);
    ck_assert_uint_eq(ans.ttl, 0);
    ck_assert_str_eq(ans.canonname, "h1.example");
    ck_assert_int_eq(look(R_HOSTS, "H1ALIAS", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.10");
    ck_assert_str_eq(ans.canonname, "h1.example");
    ck_assert_int_eq(look(R_HOSTS, "h1.example", AF_INET6, &ans, b), 0);
    ck_assert_str_eq(b, "2001:db8::10");
    ck_assert_int_eq(look(R_HOSTS, "h2.example.", AF_UNSPEC, &ans, b), 0);
    ck_assert_str_eq(b, "198.51.100.20");
    ck_assert_str_eq(ans.canonname, "H2.Example");
    ck_assert_int_eq(look(R_HOSTS, "h5.example", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "192.0.2.40 192.0.2.41");
    ck_assert_int_eq(look(R_HOSTS, "last.example", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "192.0.2.50");
    /* not in the file (or only in lines that don't count): on to DNS, here dead */
    ck_assert_int_eq(look(R_HOSTS, "h3.example", AF_UNSPEC, &ans, b), EAI_AGAIN);
    ck_assert_int_eq(look(R_HOSTS, "h4.example", AF_UNSPEC, &ans, b), EAI_AGAIN);
    ck_assert_int_eq(look(R_HOSTS, "h2.example", AF_INET6, &ans, b), EAI_AGAIN);
    ck_assert_int_eq(look(R_HOSTS, "xxxxxxxx", AF_INET, &ans, b), EAI_AGAIN);
    /* disabled, or missing */
    res[R_HOSTS].hosts_file[0] = '\0';
    ck_assert_int_eq(look(R_HOSTS, "h1.example", AF_UNSPEC, &ans, b), EAI_AGAIN);
    snprintf(res[R_HOSTS].hosts_file, CONF_PATH_MAX, "%s.missing", path);
    ck_assert_int_eq(look(R_HOSTS, "h1.example", AF_UNSPEC, &ans, b), EAI_AGAIN);
    unlink(path);
}
END_TEST

/* ---- servers that fail ---- */

START_TEST(dead_port_is_eai_again_quickly)
{
    struct dns_answer ans;
    int64_t t0 = ms_now();

    ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, "a.example", AF_UNSPEC, &ans), EAI_AGAIN);
    ck_assert_uint_eq(ans.n, 0);
    /* the port refuses: no need to wait for the timeout, and never longer than
     * timeout x attempts + slack */
    ck_assert_int_le(ms_now() - t0, 500 * 2 + 250 + 200);
}
END_TEST

START_TEST(silent_server_times_out)
{
    struct dns_answer ans;
    int64_t t0 = ms_now();

    errno = 1234;
    ck_assert_int_eq(dns_lookup(&cfg, R_SILENT, "a.example", AF_UNSPEC, &ans), EAI_AGAIN);
    int64_t took = ms_now() - t0;
    ck_assert_int_eq(errno, 1234);
    ck_assert_int_ge(took, 300);
    ck_assert_int_le(took, 300 * 2 + 250 + 300);
}
END_TEST

/* ---- dnsmasq ---- */

START_TEST(answers_from_server)
{
    struct dns_answer ans;
    char b[512];

    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_UNSPEC, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.7 2001:db8::7"); /* A first, then AAAA */
    ck_assert_int_eq(ans.source, DNS_SRC_DNS);
    ck_assert_uint_gt(ans.ttl, 0);
    ck_assert_uint_le(ans.ttl, 60);
    ck_assert_str_eq(ans.canonname, "a.example");
    ck_assert_int_eq(look(R_NOCACHE, "a.example", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.7");
    ck_assert_int_eq(look(R_NOCACHE, "A.EXAMPLE.", AF_INET6, &ans, b), 0);
    ck_assert_str_eq(b, "2001:db8::7");
    /* only an A record: the AAAA failure doesn't spoil the answer */
    ck_assert_int_eq(look(R_NOCACHE, "b.example", AF_UNSPEC, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.8");
    /* a CNAME: the canonical name is its target */
    ck_assert_int_eq(look(R_NOCACHE, "c.example", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.20");
    ck_assert_str_eq(ans.canonname, "t.example");
}
END_TEST

/* Too many records for 512 bytes of UDP: c-ares retries over TCP (non-blocking
 * connect through sys.connect, writes through sendmsg). DNS_MAX_ADDRS are kept,
 * and a long A list does not push out the AAAA records. */
START_TEST(big_answer_over_tcp)
{
    struct dns_answer ans;
    char b[2048];
    size_t v6 = 0;

    ck_assert_int_eq(look(R_NOCACHE, "big.example", AF_INET, &ans, b), 0);
    ck_assert_uint_eq(ans.n, DNS_MAX_ADDRS);
    ck_assert_int_eq(look(R_NOCACHE, "big.example", AF_UNSPEC, &ans, b), 0);
    ck_assert_uint_eq(ans.n, DNS_MAX_ADDRS);
    for (size_t i = 0; i < ans.n; i++) {
        v6 += ans.addrs[i].family == AF_INET6;
        if (i < DNS_MAX_ADDRS - BIG_AAAA)
            ck_assert_int_eq(ans.addrs[i].family, AF_INET);
    }
    ck_assert_uint_eq(v6, BIG_AAAA);
}
END_TEST

START_TEST(unknown_name_is_eai_noname)
{
    struct dns_answer ans;

    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "nx.example", AF_UNSPEC, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "nx.example", AF_INET, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "b.example", AF_INET6, &ans), EAI_NONAME);
    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "t.example", AF_INET6, &ans), EAI_NONAME);
    ck_assert_uint_eq(ans.n, 0);
}
END_TEST

START_TEST(second_server_answers)
{
    struct dns_answer ans;
    char b[512];

    ck_assert_int_eq(look(R_SECOND, "a.example", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.7");
}
END_TEST

START_TEST(cache_answers_without_server)
{
    struct dns_answer ans;
    char b[512];

    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_UNSPEC, &ans, b), 0);
    ck_assert_int_eq(ans.source, DNS_SRC_DNS);
    ck_assert_int_eq(dns_lookup(&cfg, R_DNSMASQ, "nx.example", AF_INET, &ans), EAI_NONAME);
    ck_assert_int_eq(ans.source, DNS_SRC_DNS);
    dm_stop();

    ck_assert_int_eq(look(R_DNSMASQ, "A.Example", AF_UNSPEC, &ans, b), 0);
    ck_assert_int_eq(ans.source, DNS_SRC_CACHE);
    ck_assert_str_eq(b, "203.0.113.7 2001:db8::7");
    ck_assert_uint_le(ans.ttl, 60);
    ck_assert_uint_le(ans.addrs[0].ttl, 60);
    /* negative answers are remembered too (briefly) */
    ck_assert_int_eq(dns_lookup(&cfg, R_DNSMASQ, "nx.example", AF_INET, &ans), EAI_NONAME);
    ck_assert_int_eq(ans.source, DNS_SRC_CACHE);
    /* other keys are not: another family, a resolver without cache */
    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_INET, &ans, b), EAI_AGAIN);
    ck_assert_int_eq(look(R_NOCACHE, "a.example", AF_UNSPEC, &ans, b), EAI_AGAIN);
    /* failures are not cached */
    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_INET, &ans, b), EAI_AGAIN);
    ck_assert_int_ne(ans.source, DNS_SRC_CACHE);

    dns_cache_clear();
    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_UNSPEC, &ans, b), EAI_AGAIN);
}
END_TEST

START_TEST(fork_child_starts_with_empty_cache)
{
    struct dns_answer ans;
    char b[512];

    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_INET, &ans, b), 0);
    dm_stop();
    dns_atfork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
        dns_atfork_child();
        int rc = dns_lookup(&cfg, R_DNSMASQ, "a.example", AF_INET, &ans);
        _exit(rc == EAI_AGAIN ? 0 : 1);
    }
    dns_atfork_parent();
    ck_assert_int_gt(pid, 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(look(R_DNSMASQ, "a.example", AF_INET, &ans, b), 0);
    ck_assert_int_eq(ans.source, DNS_SRC_CACHE);
}
END_TEST

START_TEST(detour_options_reach_dns_socket)
{
    struct dns_answer ans;
    char b[512];

    /* the detour binds DNS sockets to 127.0.0.2: dnsmasq must see that source */
    ck_assert_int_eq(look(R_DETOUR, "t.example", AF_INET, &ans, b), 0);
    ck_assert_str_eq(b, "203.0.113.20");
    ck_assert_msg(dm_logged("t.example from 127.0.0.2"), "query did not come from 127.0.0.2");

    /* an option the kernel refuses fails the lookup with its errno */
    errno = 0;
    ck_assert_int_eq(dns_lookup(&cfg, R_REFUSED, "t.example", AF_INET, &ans), EAI_SYSTEM);
    ck_assert_int_ne(errno, 0);
    ck_assert_uint_eq(ans.n, 0);
}
END_TEST

struct worker {
    int id;
    int bad;
};

static void *resolve_many(void *arg)
{
    struct worker *w = arg;
    struct dns_answer ans;
    static const char *const names[] = {"a.example", "t.example", "nx.example", "c.example"};
    static const int want[] = {0, 0, EAI_NONAME, 0};

    for (int i = 0; i < 20; i++) {
        int k = (w->id + i) % 4;
        int rc = dns_lookup(&cfg, R_NOCACHE, names[k], AF_UNSPEC, &ans);
        if (rc != want[k] || (rc == 0 && ans.n == 0))
            w->bad++;
    }
    return NULL;
}

START_TEST(threads_resolve_at_once)
{
    enum { N = 12 };
    pthread_t t[N];
    struct worker w[N];

    for (int i = 0; i < N; i++) {
        w[i] = (struct worker){.id = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, resolve_many, &w[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].bad, 0);
    }
}
END_TEST

/* ---- the sockets c-ares gets ---- */

static int (*real_socket)(int, int, int);
static int (*real_close)(int);
static int opened, closed_count, bad_flags;

static int spy_socket(int domain, int type, int protocol)
{
    int fd = real_socket(domain, type, protocol);
    if (fd >= 0) {
        opened++;
        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || !(fcntl(fd, F_GETFL) & O_NONBLOCK))
            bad_flags++;
    }
    return fd;
}

static int spy_close(int fd)
{
    closed_count++;
    return real_close(fd);
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

START_TEST(sockets_go_through_sys_and_are_closed)
{
    struct dns_answer ans;

    real_socket = sys.socket;
    real_close = sys.close;
    sys.socket = spy_socket;
    sys.close = spy_close;
    int before = count_fds();
    /* local answers open nothing */
    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "198.51.100.7", AF_UNSPEC, &ans), 0);
    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "localhost", AF_UNSPEC, &ans), 0);
    ck_assert_int_eq(opened, 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "a.example", AF_UNSPEC, &ans), 0);
        ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "nx.example", AF_UNSPEC, &ans), EAI_NONAME);
        ck_assert_int_eq(dns_lookup(&cfg, R_SECOND, "a.example", AF_INET, &ans), 0);
        ck_assert_int_eq(dns_lookup(&cfg, R_DEAD, "a.example", AF_INET, &ans), EAI_AGAIN);
    }
    ck_assert_int_eq(dns_lookup(&cfg, R_SILENT, "a.example", AF_INET, &ans), EAI_AGAIN);
    ck_assert_int_eq(count_fds(), before);
    ck_assert_int_gt(opened, 0);
    ck_assert_int_eq(opened, closed_count);
    ck_assert_int_eq(bad_flags, 0);
    sys.socket = real_socket;
    sys.close = real_close;
}
END_TEST

static int no_socket(int domain, int type, int protocol)
{
    (void)domain, (void)type, (void)protocol;
    errno = EMFILE;
    return -1;
}

START_TEST(no_socket_is_eai_system)
{
    struct dns_answer ans;

    sys.socket = no_socket;
    errno = 0;
    ck_assert_int_eq(dns_lookup(&cfg, R_NOCACHE, "a.example", AF_INET, &ans), EAI_SYSTEM);
    ck_assert_int_eq(errno, EMFILE);
    sys_init_default();
}
END_TEST

int main(void)
{
    sys_init_default();
    signal(SIGPIPE, SIG_IGN);
    if (access(DNSMASQ, X_OK) != 0) {
        fprintf(stderr, "test_dns: %s is missing (make deps)\n", DNSMASQ);
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("dns");
    TCase *local = tcase_create("local");
    TCase *fail = tcase_create("failing servers");
    TCase *dm = tcase_create("dnsmasq");

    tcase_add_checked_fixture(local, conf_setup, conf_teardown);
    tcase_add_test(local, numeric_names);
    tcase_add_test(local, localhost_names);
    tcase_add_test(local, bad_input);
    tcase_add_test(local, custom_hosts_file);

    tcase_add_checked_fixture(fail, conf_setup, conf_teardown);
    tcase_set_timeout(fail, 10);
    tcase_add_test(fail, dead_port_is_eai_again_quickly);
    tcase_add_test(fail, silent_server_times_out);

    tcase_add_checked_fixture(dm, dm_start, dm_teardown);
    tcase_set_timeout(dm, 30);
    tcase_add_test(dm, answers_from_server);
    tcase_add_test(dm, big_answer_over_tcp);
    tcase_add_test(dm, unknown_name_is_eai_noname);
    tcase_add_test(dm, second_server_answers);
    tcase_add_test(dm, cache_answers_without_server);
    tcase_add_test(dm, fork_child_starts_with_empty_cache);
    tcase_add_test(dm, detour_options_reach_dns_socket);
    tcase_add_test(dm, threads_resolve_at_once);
    tcase_add_test(dm, sockets_go_through_sys_and_are_closed);
    tcase_add_test(dm, no_socket_is_eai_system);

    suite_add_tcase(s, local);
    suite_add_tcase(s, fail);
    suite_add_tcase(s, dm);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
