/* group: which member of a group a connection takes, and which are down. See
 * group.h. The chain walk lives here because it is where groups are met; the
 * DetourDialer (detour.c) runs the chain and fails over. */
#include "common/dialer/group.h"

#include "common/dialer/learn.h"
#include "common/log.h"
#include "common/monotime.h"
#include "common/nobss.h"
#include "common/statedir.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GROUP_FILE "groups"
#define DAY_MS     (24LL * 3600 * 1000)

/* Wall-clock milliseconds until which a member is down (0: up), per dialer: the
 * wall clock because other processes read the same marks. */
static int64_t down_until[LEARN_MAX] NOBSS;
static uint32_t rr_next[LEARN_MAX] NOBSS;
static int loaded; /* the state file was read (or is being read) */

static long long wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- the state file */

/* A member as the file names it: its name and its server, so that a file written
 * under another configuration never marks a different proxy down. */
static void member_key(const struct conf_dialer *m, char *out, size_t cap)
{
    snprintf(out, cap, "%s %s:%u", m->name, m->server.host[0] ? m->server.host : "-",
             m->server.port);
}

static int member_by_key(const struct conf *c, const char *name, const char *server)
{
    char key[CONF_NAME_MAX + CONF_HOST_MAX + 16], want[sizeof(key)];

    snprintf(want, sizeof(want), "%s %s", name, server);
    for (int i = 0; i < c->n_dialers && i < LEARN_MAX; i++) {
        member_key(&c->dialers[i], key, sizeof(key));
        if (!strcmp(key, want))
            return i;
    }
    return -1;
}

/* Lines "UNTIL NAME HOST:PORT"; a line cut, unknown or expired is skipped. */
static void load_marks(const struct conf *c)
{
    char *buf = malloc(STATEDIR_FILE_MAX), *line, *save = NULL;
    long long now = wall_ms();

    if (!buf)
        return;
    if (statedir_read(c, GROUP_FILE, buf, STATEDIR_FILE_MAX) > 0) {
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char name[CONF_NAME_MAX], server[CONF_HOST_MAX + 8];
            long long until;
            int m;
            if (sscanf(line, "%lld %63s %263s", &until, name, server) != 3)
                continue;
            if (until <= now || until > now + DAY_MS || (m = member_by_key(c, name, server)) < 0)
                continue;
            __atomic_store_n(&down_until[m], until, __ATOMIC_RELAXED);
        }
    }
    free(buf);
}

static void ensure_loaded(const struct conf *c)
{
    if (!__atomic_exchange_n(&loaded, 1, __ATOMIC_ACQ_REL))
        load_marks(c);
}

/* Every mark this process knows (it read the file once, then added its own). */
static void save_marks(const struct conf *c)
{
    char *buf = malloc(STATEDIR_FILE_MAX), key[CONF_NAME_MAX + CONF_HOST_MAX + 16];
    long long now = wall_ms();
    size_t len = 0;
    int err;

    if (!buf)
        return;
    for (int i = 0; i < c->n_dialers && i < LEARN_MAX; i++) {
        long long until = __atomic_load_n(&down_until[i], __ATOMIC_RELAXED);
        if (until <= now)
            continue;
        member_key(&c->dialers[i], key, sizeof(key));
        if (len + strlen(key) + 32 >= STATEDIR_FILE_MAX)
            break;
        len += (size_t)snprintf(buf + len, STATEDIR_FILE_MAX - len, "%lld %s\n", until, key);
    }
    err = statedir_write(c, GROUP_FILE, buf, len);
    if (err && err != ENOENT)
        log_debug("state_dir: group marks not kept: %s", strerror(err));
    free(buf);
}

/* ---------------------------------------------------------------- round_robin's turn */

/* The turns of round_robin groups, shared by every process of the user through a
 * page of the state directory mapped MAP_SHARED (file "roundrobin", a counter per
 * slot): a turn costs an atomic add, no system call. Without a state directory,
 * the process's own counters. A group's slot: a hash of its name and members. */
#define RR_FILE  "roundrobin"
#define RR_SLOTS 1024
static uint32_t *rr_shared;
static int rr_mapped; /* 0: not tried yet; 1: tried (rr_shared set, or NULL) */

static void rr_map(const struct conf *c)
{
    int dir = statedir_open(c), fd;
    struct stat st;
    void *p;

    if (dir < 0)
        return;
    fd = openat(dir, RR_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    sys.close(dir);
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_size >= RR_SLOTS * 4 || ftruncate(fd, RR_SLOTS * 4) == 0)) {
        p = mmap(NULL, RR_SLOTS * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED)
            __atomic_store_n(&rr_shared, (uint32_t *)p, __ATOMIC_RELEASE);
    }
    sys.close(fd);
}

/* DIAL: a dial's turn (a look, explain's, creates nothing). */
static uint32_t *rr_counter(const struct conf *c, int g, bool dial)
{
    const struct conf_dialer *d = &c->dialers[g];
    uint32_t *shared, h = 2166136261u;

    if (dial && !__atomic_exchange_n(&rr_mapped, 1, __ATOMIC_ACQ_REL))
        rr_map(c);
    shared = __atomic_load_n(&rr_shared, __ATOMIC_ACQUIRE);
    if (!shared)
        return &rr_next[g];
    for (const char *s = d->name; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    for (int k = 0; k < d->n_members; k++)
        for (const char *s = c->dialers[d->members[k]].name; *s; s++)
            h = (h ^ (uint8_t)*s) * 16777619u;
    return &shared[h % RR_SLOTS];
}

/* ---------------------------------------------------------------- picking */

bool group_member_down(const struct conf *c, int member, long long *left_ms)
{
    long long until, now;

    ensure_loaded(c);
    if (member < 0 || member >= LEARN_MAX)
        return false;
    until = __atomic_load_n(&down_until[member], __ATOMIC_RELAXED);
    now = wall_ms();
    if (left_ms)
        *left_ms = until > now ? until - now : 0;
    return until > now;
}

static bool was_tried(const struct tried *t, int member)
{
    for (int i = 0; t && i < t->n; i++)
        if (t->dialers[i] == member)
            return true;
    return false;
}

/* A per-thread generator is enough to spread connections; no secret depends on it. */
static uint32_t random_u32(void)
{
    /* initial-exec: the general model's __tls_get_addr made the library need
     * ld-linux-x86-64.so.2, whose versions are checked at every process start */
    static __thread uint64_t s __attribute__((tls_model("initial-exec")));

    if (!s)
        s = (uint64_t)monotime_ms() * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)&s;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (uint32_t)(s >> 16);
}

static int pick_member(const struct conf *c, int g, const struct tried *tried)
{
    const struct conf_dialer *d = &c->dialers[g];
    int live[CONF_LIST_MAX], n_live = 0, start = 0;

    /* Only a dial moves the turn (TRIED set); a look (explain, the options a
     * socket will carry) sees whose turn it is. */
    if (d->pick == PICK_ROUND_ROBIN && g < LEARN_MAX) {
        uint32_t *turn = rr_counter(c, g, tried != NULL);
        start = (int)((tried ? __atomic_fetch_add(turn, 1, __ATOMIC_RELAXED)
                             : __atomic_load_n(turn, __ATOMIC_RELAXED)) %
                      (uint32_t)d->n_members);
    }
    for (int k = 0; k < d->n_members; k++) {
        int m = d->members[(start + k) % d->n_members];
        if (!was_tried(tried, m) && !group_member_down(c, m, NULL))
            live[n_live++] = m;
    }
    if (n_live)
        return live[d->pick == PICK_RANDOM ? random_u32() % (uint32_t)n_live : 0];
    /* Every member is down: the marks are hints, try them in order anyway. */
    for (int k = 0; k < d->n_members; k++)
        if (!was_tried(tried, d->members[k]))
            return d->members[k];
    return -1;
}

int chain_resolve(const struct conf *c, int last, struct chain *ch, const struct tried *tried)
{
    int rev[CHAIN_MAX], n = 0, steps = 0;

    ch->n_picks = 0;
    ch->maker = -1;
    for (int i = last; i >= 0 && steps < 4 * CHAIN_MAX; steps++) {
        const struct conf_dialer *d = &c->dialers[i];
        if (d->type == DIALER_GROUP) {
            int m = ch->n_picks < CHAIN_MAX ? pick_member(c, i, tried) : -1;
            if (m < 0)
                return ch->n_picks < CHAIN_MAX ? -2 : -1;
            ch->picks[ch->n_picks].group = i;
            ch->picks[ch->n_picks].member = m;
            ch->picks[ch->n_picks++].at = n;
            i = m;
        } else if (d->type == DIALER_DIRECT || d->type == DIALER_BLOCK) {
            ch->maker = i;
            break;
        } else {
            if (n == CHAIN_MAX)
                return -1;
            rev[n++] = i;
            i = d->detour;
        }
    }
    if (ch->maker < 0) {
        if (n == 0)
            return -1;
        ch->maker = rev[n - 1]; /* the first proxy dials its own server */
    }
    for (int k = 0; k < n; k++)
        ch->hops[k] = rev[n - 1 - k];
    ch->n = n;
    return n;
}

bool group_blame(const struct conf *c, const struct chain *ch, int fault, struct tried *tried)
{
    int at = ch->n - 1 - fault, k;
    const struct conf_dialer *g;

    for (k = ch->n_picks - 1; k >= 0 && ch->picks[k].at > at; k--)
        ;
    if (fault < 0 || fault >= ch->n || k < 0)
        return false;
    g = &c->dialers[ch->picks[k].group];
    if (tried->n < CHAIN_MAX)
        tried->dialers[tried->n++] = ch->picks[k].member;
    if (ch->picks[k].member < LEARN_MAX) {
        ensure_loaded(c);
        __atomic_store_n(&down_until[ch->picks[k].member], wall_ms() + g->down_for_ms,
                         __ATOMIC_RELAXED);
        save_marks(c);
    }
    log_info("group %s: member %s down for %ums", g->name, c->dialers[ch->picks[k].member].name,
             g->down_for_ms);
    return true;
}

/* ---------------------------------------------------------------- explain */

static size_t explain_one(const struct conf *c, int g, char *out, size_t cap, size_t len)
{
    const struct conf_dialer *d = &c->dialers[g];

    if (len < cap)
        len += (size_t)snprintf(out + len, cap - len,
                                "group %s: pick %s, down_for %ums; members:", d->name,
                                conf_pick_name(d->pick), d->down_for_ms);
    for (int k = 0; k < d->n_members && len < cap; k++) {
        long long left;
        int m = d->members[k];
        if (group_member_down(c, m, &left))
            len += (size_t)snprintf(out + len, cap - len, "%s %s (down, %llds left)", k ? "," : "",
                                    c->dialers[m].name, (left + 999) / 1000);
        else
            len += (size_t)snprintf(out + len, cap - len, "%s %s (%s)", k ? "," : "",
                                    c->dialers[m].name, conf_dialer_type_name(c->dialers[m].type));
    }
    if (len < cap)
        len += (size_t)snprintf(out + len, cap - len, "\n");
    return len;
}

/* Every group reachable from DI (detours and members), each once. */
void group_explain(const struct conf *c, int di, char *out, size_t cap)
{
    int todo[64], n = 0, seen[64], n_seen = 0;
    size_t len = 0;

    out[0] = '\0';
    todo[n++] = di;
    while (n > 0) {
        int i = todo[--n];
        bool dup = false;
        for (int k = 0; k < n_seen; k++)
            dup |= seen[k] == i;
        if (dup || i < 0 || n_seen == 64)
            continue;
        seen[n_seen++] = i;
        if (c->dialers[i].detour >= 0 && n < 64)
            todo[n++] = c->dialers[i].detour;
        if (c->dialers[i].type != DIALER_GROUP)
            continue;
        len = explain_one(c, i, out, cap, len);
        for (int k = c->dialers[i].n_members - 1; k >= 0 && n < 64; k--)
            todo[n++] = c->dialers[i].members[k];
    }
    if (len > 0 && len <= cap && out[len - 1] == '\n')
        out[len - 1] = '\0';
}
