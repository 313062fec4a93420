#include "common/dialer/learn.h"

#include "common/log.h"
#include "common/nobss.h"
#include "common/statedir.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEARN_FILE "learned"
#define DAY_MS     (24LL * 3600 * 1000)

/* LEARN_LOCKSTEP or LEARN_PIPELINED in the low bits (LEARN_MODE), and
 * LEARN_USERPASS beside either. */
enum { LEARN_NOTHING, LEARN_LOCKSTEP, LEARN_PIPELINED, LEARN_MODE = 3, LEARN_USERPASS = 4 };
static uint8_t learned_mode[LEARN_MAX] NOBSS;
static int64_t learned_at[LEARN_MAX] NOBSS; /* wall-clock ms: when it was learned */
static int loaded;

static long long wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int learned_bits(int dialer)
{
    return dialer < LEARN_MAX ? __atomic_load_n(&learned_mode[dialer], __ATOMIC_RELAXED)
                              : LEARN_NOTHING;
}

/* ---------------------------------------------------------------- the state file */

/* Lines "WHEN TYPE HOST:PORT BITS": what is learned is the proxy's, whatever the
 * dialer is called. */
static void proxy_key(const struct conf_dialer *p, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s:%u", conf_dialer_type_name(p->type), p->server.host, p->server.port);
}

static bool is_proxy(const struct conf_dialer *p)
{
    return p->type == DIALER_SOCKS5 || p->type == DIALER_SOCKS4 || p->type == DIALER_HTTP;
}

/* A line of the file: 0 read, -1 not a line of ours. */
static int parse_line(const char *line, long long *when, char *key, size_t cap, int *bits)
{
    char type[16], server[CONF_HOST_MAX + 8];

    if (sscanf(line, "%lld %15s %263s %d", when, type, server, bits) != 4)
        return -1;
    snprintf(key, cap, "%s %s", type, server);
    return 0;
}

void learn_load(const struct conf *c)
{
    char *buf, *line, *save = NULL, key[CONF_HOST_MAX + 32], mine[sizeof(key)];
    long long now, when;
    int bits;

    if (__atomic_exchange_n(&loaded, 1, __ATOMIC_ACQ_REL) || !(buf = malloc(STATEDIR_FILE_MAX)))
        return;
    now = wall_ms();
    if (statedir_read(c, LEARN_FILE, buf, STATEDIR_FILE_MAX) > 0) {
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            if (parse_line(line, &when, key, sizeof(key), &bits) < 0 || when > now ||
                now - when > DAY_MS)
                continue;
            for (int i = 0; i < c->n_dialers && i < LEARN_MAX; i++) {
                if (!is_proxy(&c->dialers[i]) || learned_bits(i))
                    continue;
                proxy_key(&c->dialers[i], mine, sizeof(mine));
                if (strcmp(mine, key))
                    continue;
                __atomic_store_n(&learned_at[i], when, __ATOMIC_RELAXED);
                __atomic_store_n(&learned_mode[i], (uint8_t)(bits & 7), __ATOMIC_RELAXED);
            }
        }
    }
    free(buf);
}

/* Whether one of C's proxies has KEY. */
static bool ours(const struct conf *c, const char *key)
{
    char mine[CONF_HOST_MAX + 32];

    for (int i = 0; i < c->n_dialers && i < LEARN_MAX; i++) {
        if (!is_proxy(&c->dialers[i]))
            continue;
        proxy_key(&c->dialers[i], mine, sizeof(mine));
        if (!strcmp(mine, key))
            return true;
    }
    return false;
}

/* What this process knows, and the lines of the file about other proxies. */
static void save(const struct conf *c)
{
    char *old = malloc(STATEDIR_FILE_MAX), *out = malloc(STATEDIR_FILE_MAX), *line, *sv = NULL;
    char key[CONF_HOST_MAX + 32];
    long long now = wall_ms(), when;
    size_t len = 0;
    int bits, err;

    if (old && out && statedir_read(c, LEARN_FILE, old, STATEDIR_FILE_MAX) > 0)
        for (line = strtok_r(old, "\n", &sv); line; line = strtok_r(NULL, "\n", &sv))
            if (!parse_line(line, &when, key, sizeof(key), &bits) && now - when <= DAY_MS &&
                !ours(c, key) && len + strlen(line) + 2 < STATEDIR_FILE_MAX)
                len += (size_t)snprintf(out + len, STATEDIR_FILE_MAX - len, "%s\n", line);
    for (int i = 0; out && i < c->n_dialers && i < LEARN_MAX; i++) {
        if (!is_proxy(&c->dialers[i]) || !learned_bits(i) || len + 512 >= STATEDIR_FILE_MAX)
            continue;
        proxy_key(&c->dialers[i], key, sizeof(key));
        len += (size_t)snprintf(out + len, STATEDIR_FILE_MAX - len, "%lld %s %d\n",
                                (long long)__atomic_load_n(&learned_at[i], __ATOMIC_RELAXED), key,
                                learned_bits(i));
    }
    if (out && (err = statedir_write(c, LEARN_FILE, out, len)) && err != ENOENT)
        log_debug("state_dir: what handshake = auto learned is not kept: %s", strerror(err));
    free(old);
    free(out);
}

/* ---------------------------------------------------------------- learning */

static void learn_as(const struct conf *c, int dialer, int mode)
{
    uint8_t old;

    if (dialer >= LEARN_MAX)
        return;
    old = __atomic_load_n(&learned_mode[dialer], __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&learned_mode[dialer], &old,
                                        (uint8_t)((old & LEARN_USERPASS) | mode), true,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    if ((old & LEARN_MODE) != mode) {
        __atomic_store_n(&learned_at[dialer], wall_ms(), __ATOMIC_RELAXED);
        save(c);
    }
}

static bool loopback(const struct conf_server *s)
{
    const struct sockaddr *sa = &s->addr.u.sa;

    if (s->addr.len && sa->sa_family == AF_INET)
        return (ntohl(s->addr.u.in4.sin_addr.s_addr) >> 24) == 127;
    if (s->addr.len && sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&s->addr.u.in6.sin6_addr) ||
               (IN6_IS_ADDR_V4MAPPED(&s->addr.u.in6.sin6_addr) &&
                s->addr.u.in6.sin6_addr.s6_addr[12] == 127);
    return false;
}

bool learn_may_pipeline(const struct conf_dialer *p, int dialer)
{
    int bits = learned_bits(dialer);

    if (p->handshake == HANDSHAKE_PIPELINED)
        return true;
    if (p->handshake != HANDSHAKE_AUTO || (bits & LEARN_MODE) == LEARN_LOCKSTEP ||
        loopback(&p->server))
        return false;
    return !(p->type == DIALER_SOCKS5 && p->has_auth) || (bits & LEARN_USERPASS);
}

bool learn_proven(int dialer)
{
    return (learned_bits(dialer) & LEARN_MODE) == LEARN_PIPELINED;
}

void learn_pipelined(const struct conf *c, int dialer)
{
    learn_as(c, dialer, LEARN_PIPELINED);
}

void learn_lockstep(const struct conf *c, int dialer)
{
    learn_as(c, dialer, LEARN_LOCKSTEP);
}

void learn_userpass(const struct conf *c, int dialer)
{
    if (dialer < LEARN_MAX &&
        !(__atomic_fetch_or(&learned_mode[dialer], LEARN_USERPASS, __ATOMIC_RELAXED) &
          LEARN_USERPASS)) {
        __atomic_store_n(&learned_at[dialer], wall_ms(), __ATOMIC_RELAXED);
        save(c);
    }
}
