/* netns: a socket made in another network namespace (dialshim.ini(5) netns;
 * docs/architecture.md "Socket options").
 *
 * Promise: netns_socket() opens PATH (a namespace file, /run/netns/NAME), and in
 * a helper thread of its own (every signal blocked, joined before it returns)
 * enters that namespace with setns(CLONE_NEWNET) and makes the socket there with
 * SOCK_CLOEXEC; the calling thread and the process stay in their namespace. It
 * calls no hooked name (sys table only), so any thread may call it, including
 * the non-blocking dial's driver threads. Returns 0 with *FD, or an errno (EPERM:
 * setns needs CAP_SYS_ADMIN; ENOENT: no such namespace). */
#ifndef DIALSHIM_NETNS_H
#define DIALSHIM_NETNS_H

int netns_socket(const char *path, int domain, int type, int protocol, int *fd);

#endif
