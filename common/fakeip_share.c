/* How the fake-address tables use the table shared under state_dir
 * (common/fakeshare.h). Part of the fakeip module (common/fakeip_int.h). */
#include "common/fakeip_int.h"
#include "common/fakeshare.h"
#include "common/log.h"

#include <errno.h>
#include <string.h>

/* New names this process took for relayed datagrams: at most FAKEIP_RELAYED_MAX
 * (the shared table never frees an address, so they are counted once). */
static uint32_t relayed_taken;

void fakeip_share(const struct conf *c)
{
    uint8_t base4[4], base6[16];
    uint32_t cap[2];

    pthread_mutex_lock(&fakeip_lock);
    fakeip_bases(base4, base6, cap);
    pthread_mutex_unlock(&fakeip_lock);
    /* Logged there; then the tables stay the process's own, as without a state_dir. */
    if (fakeshare_enable(c, base4, base6, cap) == 0)
        fakeip_shared = true;
}

/* A relayed name new to the table takes one of this process's FAKEIP_RELAYED_MAX. */
static int relayed_slot(int family, const char *key, uint32_t h, uint32_t *slot)
{
    bool added;
    int err = fakeshare_get(family, key, h, false, slot, &added);

    if (err != ENOENT)
        return err;
    if (__atomic_fetch_add(&relayed_taken, 1, __ATOMIC_RELAXED) >= FAKEIP_RELAYED_MAX) {
        __atomic_fetch_sub(&relayed_taken, 1, __ATOMIC_RELAXED);
        return EAGAIN;
    }
    err = fakeshare_get(family, key, h, true, slot, &added);
    if (!added)
        __atomic_fetch_sub(&relayed_taken, 1, __ATOMIC_RELAXED);
    return err;
}

/* fakeip_for_name_at's address in the shared table: lock-free, no system call. */
int fakeip_shared_addr(const struct fake_table *t, const char *key, bool relayed, void *out)
{
    uint32_t slot, h = fakeip_hash(key);
    bool added;
    int err = relayed ? relayed_slot(t->family, key, h, &slot)
                      : fakeshare_get(t->family, key, h, true, &slot, &added);

    if (err == 0) {
        fakeip_slot_addr(t, slot, out);
        return 0;
    }
    if (relayed)
        log_debug("fake ip: no %s address for %s from a relayed datagram (%u new ones taken, "
                  "or none free)",
                  t->family == AF_INET ? "IPv4" : "IPv6", key, FAKEIP_RELAYED_MAX);
    else if (err == EAGAIN)
        log_warn("fake ip: all %u %s addresses of the shared table were handed out: %s refused "
                 "(EAI_AGAIN)",
                 t->cap, t->family == AF_INET ? "IPv4" : "IPv6", key);
    else
        log_warn("fake ip: the shared table's file cannot grow (%s): %s refused (EAI_AGAIN)",
                 strerror(err), key);
    return EAGAIN; /* the key fits (normalized): what remains is "none left" */
}

bool fakeip_shared_name(const struct fake_table *t, const void *addr, char *name, size_t cap)
{
    char scratch[FAKEIP_NAME_MAX];
    int32_t i = fakeip_slot_index(t, addr);

    if (cap == 0) {
        name = scratch;
        cap = sizeof(scratch);
    }
    return i >= 0 && fakeshare_name(t->family, (uint32_t)i, name, cap);
}

void fakeip_share_reset(void)
{
    fakeshare_disable();
    fakeip_shared = false;
    __atomic_store_n(&relayed_taken, 0, __ATOMIC_RELAXED);
}
