#include "common/owner.h"

#include <sys/types.h>
#include <unistd.h>

static pid_t owner;

void owner_set(void)
{
    __atomic_store_n(&owner, getpid(), __ATOMIC_RELAXED);
}

bool owner_foreign(void)
{
    pid_t o = __atomic_load_n(&owner, __ATOMIC_RELAXED), me = getpid();

    if (!o || o == me)
        return false;
    /* A vfork child: its parent waits in vfork, so it is still the parent. */
    if (getppid() == o)
        return true;
    /* Not the owner's child: a stale record, made by a vfork child whose parent
     * had loaded nothing before it (the child has exec'd since): ours now. */
    __atomic_store_n(&owner, me, __ATOMIC_RELAXED);
    return false;
}
