#include "common/owner.h"

#include <sys/types.h>
#include <unistd.h>

static pid_t owner;
/* The flag the vfork stub sets (shim/vfork.c names it); on other machines the
 * kernel is always asked. */
bool owner_vforked __attribute__((visibility("hidden"))) = !OWNER_VFORK_HOOKED;

void owner_shared_child(void)
{
    __atomic_store_n(&owner_vforked, true, __ATOMIC_RELAXED);
}

void owner_set(void)
{
    __atomic_store_n(&owner, getpid(), __ATOMIC_RELAXED);
}

bool owner_foreign(void)
{
    pid_t o, me;

    if (!__atomic_load_n(&owner_vforked, __ATOMIC_RELAXED))
        return false;
    o = __atomic_load_n(&owner, __ATOMIC_RELAXED);
    me = getpid();
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
