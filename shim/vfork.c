/* vfork and clone: a child that shares the program's memory runs the hooks in
 * it until it execs (Python's subprocess: close_range, dup2 onto 0..2), so what
 * the shim keeps there stays the parent's (common/owner.h). These hooks only
 * note that such a child may exist, so that a process that never makes one
 * never asks the kernel who it is.
 *
 * vfork cannot be wrapped in C: the child returns from it first and goes on
 * using the stack below the caller's frame, where a wrapper's frame (and its
 * return address) would be when the parent resumes. The stub sets the flag
 * without touching the stack and jumps to glibc's __vfork, which returns to our
 * caller in both processes. Machines without the stub ask the kernel always
 * (OWNER_VFORK_HOOKED). */
#include "common/owner.h"
#include "shim/init.h"

#include <sched.h>
#include <stdarg.h>

#if OWNER_VFORK_HOOKED
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "    endbr64\n"
        "    movb $1, owner_vforked(%rip)\n"
        "    jmp __vfork@PLT\n"
        ".size vfork, .-vfork\n");
#endif

typedef int (*clone_fn)(int (*)(void *), void *, int, void *, ...);

/* clone(2)'s libc wrapper: the child runs FN on its own stack and never returns
 * through here, so C will do. Threads (CLONE_THREAD) share memory as threads
 * do: nothing to note. pthread_create and posix_spawn reach the kernel inside
 * glibc and never come here. */
HOOK int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    static void *real;
    clone_fn f = shim_real(&real, "clone", NULL);
    void *ptid, *tls, *ctid;
    va_list ap;

    /* glibc's clone reads the three optional arguments whatever FLAGS say */
    va_start(ap, arg);
    ptid = va_arg(ap, void *);
    tls = va_arg(ap, void *);
    ctid = va_arg(ap, void *);
    va_end(ap);
    if ((flags & CLONE_VM) && !(flags & CLONE_THREAD))
        owner_shared_child();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return f(fn, stack, flags, arg, ptid, tls, ctid);
}
