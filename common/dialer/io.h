/* io: a dial's reads, writes and waits on a socket, each bounded by the dial's
 * one deadline (CLOCK_MONOTONIC milliseconds, monotime_ms()). Reads and writes
 * are MSG_DONTWAIT and waits are polls, so a blocking socket needs no fcntl to
 * be read and written here.
 *
 * Promise: no allocation, no lock; only the sys table's calls and poll(2);
 * EINTR is retried, never returned; a read never takes more than it was asked
 * for (bytes after a proxy's reply belong to the program).
 */
#ifndef DIALSHIM_DIALER_IO_H
#define DIALSHIM_DIALER_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wait for EVENTS on FD until DEADLINE; 0, ETIMEDOUT or an errno. */
int io_wait(int fd, short events, long long deadline);

/* Wait for a non-blocking connect on FD to finish by DEADLINE: 0, or its errno
 * (SO_ERROR), ETIMEDOUT. */
int io_wait_connected(int fd, long long deadline);

/* Send the N bytes at BUF (MSG_NOSIGNAL): 0, ETIMEDOUT or an errno. */
int io_write_all(int fd, const uint8_t *buf, size_t n, long long deadline);

/* Read until BUF holds WANT bytes (*HAVE already there), never more; with
 * nothing there yet it waits for input before the first read. WATCHED: FD is
 * blocking and the watchdog ends its calls at DEADLINE (common/watchdog.h), so
 * the reads themselves wait (a poll saved per reply), until the socket says
 * EAGAIN (a receive timeout, or it was not blocking after all). Returns 0,
 * ETIMEDOUT, an errno, or ECONNRESET on EOF (also what a watchdog's shutdown
 * looks like here: its disarm tells). */
int io_read_to(int fd, uint8_t *buf, size_t *have, size_t want, long long deadline, bool watched);

/* Arm the watchdog on FD until DEADLINE (common/watchdog.h) and mark the number
 * (fdtab FD_WATCHED) for a blocking call: its slot, or -1 (no watchdog here: the
 * caller bounds the call another way). */
int io_watch(int fd, long long deadline);

/* End io_watch's SLOT on FD: true if the deadline passed first and the socket was
 * shut down (the call's outcome is a timeout, whatever it said); the socket is
 * then disconnected (AF_UNSPEC) for a fresh start, unless the program closed or
 * replaced the number meanwhile. */
bool io_unwatch(int fd, int slot);

#endif
