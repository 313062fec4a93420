/* watchdog: a deadline for a blocking system call on a socket.
 *
 * A blocking socket's dial used to be made non-blocking for the dial and blocking
 * again after it (three fcntl calls), only so that its connect could be bounded
 * by a poll. With a watchdog the thread makes the blocking connect as the program
 * would: if the deadline passes first, the watchdog's thread shuts the socket down
 * (shutdown SHUT_RDWR), which ends a connect in progress (ECONNRESET) or a wait
 * for input (EOF), and watch_disarm says so.
 *
 * Promise: watch_arm and watch_disarm take no lock, make no system call and
 * allocate nothing once the watchdog's thread runs, unless the deadline comes
 * before the thread's next wake-up (then one wake: a deadline shorter than a
 * second, or the first arm after ten idle seconds). The socket is shut down only
 * while it is armed under that number: watch_forget (the program closes or
 * replaces the number) waits for a shutdown under way, and moves the watch to a
 * copy of the socket or ends it. One thread, made on the first arm with every signal
 * blocked; none in a forked child (a thread started after a fork of a threaded
 * program is outside what POSIX allows) nor for a vfork child (its descriptor
 * table is not the thread's), where watch_arm answers -1. A child forked by a raw
 * system call (no fork handler ran) is not told apart: its blocking calls then
 * end by the kernel's own timeouts.
 */
#ifndef DIALSHIM_WATCHDOG_H
#define DIALSHIM_WATCHDOG_H

#include <stdbool.h>

/* Watch FD until DEADLINE (monotime_ms): a slot (>= 0) for watch_disarm, or -1:
 * no watchdog here (a forked child, every slot taken, no thread could be made),
 * the caller bounds its call another way. */
int watch_arm(int fd, long long deadline);

/* The call on SLOT's socket returned: true if the deadline had passed and the
 * socket was shut down (the call's outcome is a timeout, whatever it said). */
bool watch_disarm(int slot);

/* FD's number leaves the socket that may be watched under it (close, dup2 onto
 * it): the watchdog never shuts down what the number holds next. STILL_OPEN:
 * FD still names the socket (a close hook before the real close): the watch
 * moves to a copy of the shim's own (common/ownfd.h), so that the call blocked
 * on it still ends by its deadline; else the watch just ends. */
void watch_forget(int fd, bool still_open);

#endif
