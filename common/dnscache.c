#include "common/dnscache.h"

#include "common/monotime.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cache_slot { /* scanned on each lookup, so kept small; name/answer apart */
    bool used;
    int rc;
    const struct conf *conf;
    int resolver;
    int family;
    uint32_t hash;
    int64_t expires_ms;
    uint64_t last_use;
};

/* Allocated by the first answer cached: as a static array its 370 KB of .bss
 * were a mapping of their own that every process under the shim paid for at
 * start, lookups or not. */
struct cache {
    struct cache_slot slots[DNS_CACHE_SIZE];
    char name[DNS_CACHE_SIZE][DNS_NAME_MAX];
    struct dns_answer answer[DNS_CACHE_SIZE];
};

static struct cache *cache; /* under cache_lock */
static uint64_t cache_clock;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

void dnscache_key_make(struct cache_key *k, const struct conf *c, int resolver, const char *name,
                       int family)
{
    size_t n = strlen(name);
    uint32_t h = 2166136261u;

    k->conf = resolver < 0 ? NULL : c; /* the built-in resolver is the same for all */
    k->resolver = resolver;
    k->family = family;
    for (size_t i = 0; i <= n && i < DNS_NAME_MAX - 1; i++) {
        char ch = name[i];
        k->name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        h = (h ^ (uint8_t)k->name[i]) * 16777619u;
    }
    k->name[DNS_NAME_MAX - 1] = '\0';
    k->hash = h;
}

static bool slot_matches(int i, const struct cache_key *k)
{
    const struct cache_slot *s = &cache->slots[i];
    return s->used && s->hash == k->hash && s->conf == k->conf && s->resolver == k->resolver &&
           s->family == k->family && strcmp(cache->name[i], k->name) == 0;
}

/* Under cache_lock. */
static int cache_find(const struct cache_key *k)
{
    for (int i = 0; cache && i < DNS_CACHE_SIZE; i++)
        if (slot_matches(i, k))
            return i;
    return -1;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

bool dnscache_get(const struct cache_key *k, struct dns_answer *out, int *rc)
{
    int64_t now = monotime_ms();
    bool hit = false;

    pthread_mutex_lock(&cache_lock);
    int i = cache_find(k);
    if (i >= 0 && cache->slots[i].expires_ms <= now) {
        cache->slots[i].used = false;
    } else if (i >= 0) {
        uint32_t left = (uint32_t)((cache->slots[i].expires_ms - now + 999) / 1000);
        cache->slots[i].last_use = ++cache_clock;
        *out = cache->answer[i];
        *rc = cache->slots[i].rc;
        out->ttl = min_u32(out->ttl, left);
        for (size_t j = 0; j < out->n; j++)
            out->addrs[j].ttl = min_u32(out->addrs[j].ttl, left);
        out->source = DNS_SRC_CACHE;
        hit = true;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Under cache_lock: the same key's slot, else a free or expired one, else the
 * least recently used. */
static int cache_victim(const struct cache_key *k, int64_t now)
{
    int i = cache_find(k), lru = 0;

    if (i >= 0)
        return i;
    for (i = 0; i < DNS_CACHE_SIZE; i++) {
        if (!cache->slots[i].used || cache->slots[i].expires_ms <= now)
            return i;
        if (cache->slots[i].last_use < cache->slots[lru].last_use)
            lru = i;
    }
    return lru;
}

void dnscache_put(const struct cache_key *k, int rc, const struct dns_answer *ans, uint32_t ttl)
{
    int64_t now = monotime_ms();

    if (ttl == 0)
        return;
    pthread_mutex_lock(&cache_lock);
    if (!cache && !(cache = calloc(1, sizeof(*cache)))) {
        pthread_mutex_unlock(&cache_lock);
        return; /* no memory: answers are not kept, lookups still work */
    }
    int i = cache_victim(k, now);
    cache->slots[i] = (struct cache_slot){
        .used = true,
        .rc = rc,
        .conf = k->conf,
        .resolver = k->resolver,
        .family = k->family,
        .hash = k->hash,
        .expires_ms = now + (int64_t)ttl * 1000,
        .last_use = ++cache_clock,
    };
    memcpy(cache->name[i], k->name, sizeof(cache->name[i]));
    cache->answer[i] = *ans;
    pthread_mutex_unlock(&cache_lock);
}

void dnscache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; cache && i < DNS_CACHE_SIZE; i++)
        cache->slots[i].used = false;
    pthread_mutex_unlock(&cache_lock);
}

void dnscache_atfork_prepare(void)
{
    pthread_mutex_lock(&cache_lock);
}

void dnscache_atfork_parent(void)
{
    pthread_mutex_unlock(&cache_lock);
}

void dnscache_atfork_child(void)
{
    /* A copy of the initializer: only async-signal-safe calls are sure to work
     * in the child of a threaded process. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&cache_lock, &fresh, sizeof(cache_lock));
    for (int i = 0; cache && i < DNS_CACHE_SIZE; i++)
        cache->slots[i].used = false;
}
