/* seccomp_compat: the kernel interfaces the supervisor (and its bench) use that
 * Debian 12's headers may lack: the listener's synchronous wake-up (Linux 6.6)
 * and the pidfd system calls' numbers (x86-64). Values from the kernel's uapi. */
#ifndef DIALSHIM_SECCOMP_COMPAT_H
#define DIALSHIM_SECCOMP_COMPAT_H

#include <linux/seccomp.h>
#include <sys/syscall.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

#endif
