#include "shim/init.h"

#include "common/bigstack.h"
#include "common/nobss.h"
#include "common/state.h"
#include "common/sys.h"
#include "common/hotpath.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/futex.h>

static pthread_once_t resolve_once FIRST_DATA = PTHREAD_ONCE_INIT;
static pthread_once_t load_once FIRST_DATA = PTHREAD_ONCE_INIT;

/* Where this library's code lies, to recognise a lookup that found us again. */
static uintptr_t self_lo FIRST_DATA, self_hi FIRST_DATA;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    uintptr_t me = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (info->dlpi_addr + ph->p_vaddr < lo)
            lo = info->dlpi_addr + ph->p_vaddr;
        if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
            hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
    }
    if (me < lo || me >= hi)
        return 0;
    self_lo = lo;
    self_hi = hi;
    return 1;
}

/* The real function: the next definition after ours. A lookup that lands in our
 * own library (a broken link order) would recurse forever: refuse it. (dladdr
 * would say the same but scans symbol tables: too slow for every process start.) */
static void *find(const char *name, bool required)
{
    static const char msg[] = "dialshim: cannot find the real network functions\n";
    void *p = dlsym(RTLD_NEXT, name);

    if (!self_hi)
        dl_iterate_phdr(find_self, (void *)find);
    if (p && ((uintptr_t)p < self_lo || (uintptr_t)p >= self_hi))
        return p;
    /* Nothing to fall back on: say so on stderr (write is first in the list, so a
     * missing write is the one case with no way to say it); hooks then fail with
     * ENOSYS. */
    if (required && sys.write && sys.write(2, msg, sizeof(msg) - 1) < 0) {
    }
    return NULL;
}

void *shim_real(void **slot, const char *name, const char *alt)
{
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (!p) {
        shim_resolve(); /* the table first: its lookup knows where we lie */
        p = find(name, false);
        if (!p && alt)
            p = find(alt, false);
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    }
    return p;
}

/* The one lookup of the real functions, over common/sys.h's list. */
#define REAL(member, symbol, required) sys.member = (__typeof__(sys.member))find(#symbol, required);

/* No signal handler runs on this thread while it resolves or loads (once per
 * process, on the first hook): a hook called from one would wait in pthread_once
 * for the very work its thread was doing. Faults stay deliverable. */
static void block_signals(sigset_t *old)
{
    sigset_t all;

    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGTRAP);
    pthread_sigmask(SIG_BLOCK, &all, old);
}

static void resolve(void)
{
    sigset_t old;

    block_signals(&old);
    SYS_FUNCTIONS(REAL)
    if (!sys.fcntl64) /* a libc older than 2.28: one fcntl for all */
        sys.fcntl64 = sys.fcntl;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void shim_resolve(void)
{
    pthread_once(&resolve_once, resolve);
}

/* The constructor's capture, done once: CAPTURE_NONE, _RUNNING, _WAITED (running,
 * and a thread waits for it) or _DONE. Not pthread_once: glibc's ends with a
 * futex wake whether or not any thread waits, one system call more in every
 * process start, after a lazy binding of pthread_once itself. A thread waits here
 * only when a library initialised before this one started it and it made a
 * hooked call during our constructor; it has looked the real functions up
 * (shim_enter), so both sides can reach futex(2) through the table. */
enum { CAPTURE_NONE, CAPTURE_RUNNING, CAPTURE_WAITED, CAPTURE_DONE };
static int capture_once START_DATA("0");

static void capture_futex(int op, int val)
{
    if (sys.syscall)
        sys.syscall(SYS_futex, &capture_once, op, val, NULL);
    else if (op == FUTEX_WAIT_PRIVATE)
        sched_yield();
}

static void capture_wait(void)
{
    int v = __atomic_load_n(&capture_once, __ATOMIC_ACQUIRE);

    while (v != CAPTURE_DONE) {
        if (v == CAPTURE_RUNNING &&
            !__atomic_compare_exchange_n(&capture_once, &v, CAPTURE_WAITED, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        capture_futex(FUTEX_WAIT_PRIVATE, CAPTURE_WAITED);
        v = __atomic_load_n(&capture_once, __ATOMIC_ACQUIRE);
    }
}

/* With the constructor, at the front of the code (common/statecap.c says why). */
__attribute__((section(".text.startup.dialshim"))) static void capture(void)
{
    int v = CAPTURE_NONE;

    if (__atomic_load_n(&capture_once, __ATOMIC_ACQUIRE) == CAPTURE_DONE)
        return;
    if (!__atomic_compare_exchange_n(&capture_once, &v, CAPTURE_RUNNING, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_ACQUIRE)) {
        capture_wait();
        return;
    }
    state_capture();
    if (__atomic_exchange_n(&capture_once, CAPTURE_DONE, __ATOMIC_ACQ_REL) == CAPTURE_WAITED) {
        shim_resolve();
        capture_futex(FUTEX_WAKE_PRIVATE, INT_MAX);
    }
}

/* Set when load() is done: a nested hook must not wait in pthread_once. */
static bool loaded FIRST_DATA;

static int load_on_bigstack(void *arg)
{
    (void)arg;
    state_load();
    return 0;
}

static void load(void)
{
    sigset_t old;

    block_signals(&old);
    shim_depth++;
    capture();
    /* Parsing the file is the deepest work of a process's first call: on a stack
     * of its own, so a first call from a thread with a small stack fits (without
     * the memory for one, here). */
    if (bigstack_call(load_on_bigstack, NULL) < 0)
        state_load();
    pthread_atfork(state_atfork_prepare, state_atfork_parent, state_atfork_child);
    shim_depth--;
    __atomic_store_n(&loaded, true, __ATOMIC_RELEASE);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

HOT_PATH bool shim_enter(void)
{
    /* Once loaded (the table is resolved before), one load of a flag, not a
     * pthread_once call into libc, on every hook. */
    if (!__atomic_load_n(&loaded, __ATOMIC_ACQUIRE)) {
        shim_resolve();
        if (shim_depth > 0)
            return false; /* called from load() itself, signals blocked: libc's own */
        pthread_once(&load_once, load);
    }
    /* Nested or not, the call is the program's (common/reentry.h): the shim's own
     * calls never come here. */
    shim_depth++;
    return true;
}

/* Read the file and the environment at start-up, so a program that later
 * chroots, drops privileges or clears its environment still gets its policy;
 * parse it, and look up the real functions, on the first hook: most programs
 * never touch the network, and that work would be a large part of a small program's
 * start (`dialshim run` checks the file before it starts the program). Hooks
 * called earlier (another library's constructor) do both themselves. No thread
 * is created here. */
__attribute__((constructor)) static void shim_constructor(void)
{
    capture();
}
