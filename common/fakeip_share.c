/* How the fake-address tables follow their journal under state_dir
 * (common/fakeshare.h). Part of the fakeip module (common/fakeip_int.h). */
#include "common/fakeip_int.h"
#include "common/fakeshare.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/sys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the shared journal ---- */

void fakeip_share(const struct conf *c)
{
    int dir = statedir_open(c);

    /* A state_dir this process cannot use (another user's, not writable) is no
     * state_dir: the table stays the process's own, as without one. Once shared,
     * a failing journal refuses names instead (fakeip_shared_slot). */
    if (dir < 0) {
        log_info("fake ip: state_dir unusable (%s): fake addresses are this process's own",
                 strerror(-dir));
        return;
    }
    sys.close(dir);
    fakeshare_enable(c);
    fakeip_shared = true;
}

/* Under the journal's lock, or below a count fakeshare_peek gave: the records up
 * to COUNT that T lacks, each in its slot
 * (a record that holds no name, or a name already placed, leaves its slot empty). */
static void sync_records(struct fake_table *t, uint32_t count)
{
    char rec[FAKESHARE_REC], key[FAKEIP_NAME_MAX];

    for (uint32_t j = t->used; j < count && j < t->cap; j++) {
        char *copy = NULL;
        if (fakeshare_read(t->family, j, rec) == 0 && fakeip_normalize(rec, key) == 0)
            copy = strdup(key);
        pthread_mutex_lock(&fakeip_lock);
        if (t->used == j) {
            uint32_t h = copy ? fakeip_hash(copy) : 0;
            t->used++;
            if (copy && fakeip_find(t, copy, h) < 0) {
                fakeip_insert(t, (int32_t)j, copy, h);
                t->e[j].stamp = fakeip_now();
                copy = NULL;
            }
        }
        pthread_mutex_unlock(&fakeip_lock);
        free(copy);
    }
}

/* T caught up with the journal (a reverse lookup of an address another process
 * handed out), reading without the lock (fakeshare_peek). */
void fakeip_sync_shared(struct fake_table *t)
{
    uint32_t count;

    if (fakeip_table_memory(t) == 0 && fakeshare_peek(t->family, &count) == 0)
        sync_records(t, count);
}

/* fakeip_for_name_at's slot with the journal: a name T has is answered at once;
 * a new one is looked up in the journal under its exclusive lock, and appended
 * when nobody has it yet. -1 with *ERR when there is none. */
int32_t fakeip_shared_slot(struct fake_table *t, const char *key, uint32_t h, bool relayed,
                           uint32_t now, int *err)
{
    char *copy = NULL;
    uint32_t count;
    int32_t i;
    bool fresh;

    pthread_mutex_lock(&fakeip_lock);
    i = fakeip_find(t, key, h) >= 0 ? fakeip_slot_for(t, key, h, &copy, relayed, now, err) : -1;
    pthread_mutex_unlock(&fakeip_lock);
    if (i >= 0)
        return i;
    if (fakeshare_lock(t->family, true, &count) != 0) {
        *err = EAGAIN; /* logged there: never a table of our own that others do not see */
        return -1;
    }
    sync_records(t, count);
    copy = strdup(key);
    pthread_mutex_lock(&fakeip_lock);
    i = copy ? fakeip_slot_for(t, key, h, &copy, relayed, now, err) : -1;
    fresh = i >= 0 && copy == NULL;
    pthread_mutex_unlock(&fakeip_lock);
    if (!copy && i < 0 && !*err)
        *err = ENOMEM;
    if (fresh && fakeshare_write(t->family, (uint32_t)i, key) != 0) {
        pthread_mutex_lock(&fakeip_lock);
        fakeip_unlink(t, i);
        if ((uint32_t)i + 1 == t->used)
            t->used--;
        pthread_mutex_unlock(&fakeip_lock);
        log_warn("fake ip: cannot write %s to the shared table: refused (EAI_AGAIN)", key);
        *err = EAGAIN;
        i = -1;
    }
    fakeshare_unlock(t->family);
    free(copy);
    return i;
}
