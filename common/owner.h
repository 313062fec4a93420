/* owner: which process the shim's memory belongs to.
 *
 * A vfork child runs the hooks in its parent's memory until it execs (python's
 * subprocess does, and its child calls close_range above 2 and dup2 onto 0..2):
 * the descriptor table's words, the SOCKS5 associations, the fake-address pins,
 * the dial and epoll records there are the parent's, and a close, close_range or
 * dup2 in the child must leave them alone, or the parent loses them (an
 * association freed with its control connection left open, a second one for the
 * next datagram).
 *
 * Promise: owner_set() records the calling process (state_load, when the shim
 * loads, and the fork child handler). owner_foreign() is true only in a vfork
 * child of that process: a relaxed load, false at once while the process has made
 * no child that shares its memory (owner_shared_child: the vfork and clone hooks,
 * syscall(SYS_vfork/SYS_clone/SYS_clone3)); after the first such child, one
 * getpid() a call (a second, getppid(), only when the pid differs); no lock, no
 * allocation. The hooks ask only for numbers whose fdtab word carries FD_STATE,
 * and a plain socket's close asks nothing. A record made by a vfork child's
 * first hook (its parent had made none) is taken over by the next process that
 * asks and is not that child's vfork child. A fork made by a raw system call (no
 * fork handler ran) owns its copy while its parent had made no such child, and
 * is taken for a vfork child after one: its copy of the state is then left as
 * it was.
 */
#ifndef DIALSHIM_OWNER_H
#define DIALSHIM_OWNER_H

#include <stdbool.h>

/* Where shim/vfork.c hooks vfork (an assembly stub: a C wrapper cannot return
 * twice), a process that never made a child sharing its memory asks nothing. */
#if defined(__x86_64__)
#define OWNER_VFORK_HOOKED 1
#else
#define OWNER_VFORK_HOOKED 0
#endif

void owner_set(void);
bool owner_foreign(void);

/* The process is about to make a child that shares its memory (vfork, clone
 * with CLONE_VM and no CLONE_THREAD): from now on owner_foreign() asks the
 * kernel. A relaxed store; the flag is never cleared. */
void owner_shared_child(void);

#endif
