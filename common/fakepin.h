/* fakepin: which descriptors are connected through a fake address.
 *
 * Promise: fakepin_connect() pins the fake address a socket was connected to
 * (fakeip_pin_addr) and remembers it under the descriptor; fakepin_close() and a
 * later connect of the same descriptor unpin it; fakepin_dup() pins it once more
 * for the copy. So an address is never given to another name while a socket of
 * the process reaches its name through it. A descriptor holds at most one pin.
 * One mutex, never held across a system call (pthread_atfork handlers registered
 * with the first pin); the map grows with malloc (no
 * memory: the socket goes unpinned and a warning is logged, and the quarantine
 * still protects the address for FAKEIP_QUARANTINE_S seconds). Calls with a
 * descriptor that holds no pin cost a lock and a probe.
 */
#ifndef DIALSHIM_FAKEPIN_H
#define DIALSHIM_FAKEPIN_H

#include <sys/socket.h>

/* SA (LEN bytes) is what FD was connected to; does nothing unless it is a fake
 * address that stands for a name. */
void fakepin_connect(int fd, const struct sockaddr *sa, socklen_t len);
void fakepin_close(int fd);
void fakepin_dup(int oldfd, int newfd);

#endif
