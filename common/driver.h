/* driver: the threads that run non-blocking dials in the background.
 *
 * A dial the program asked for on a non-blocking socket runs the same blocking
 * code a blocking socket runs inline (common/dialer/), on one of these threads.
 *
 * Promise: no thread exists before the first driver_submit(); threads are made
 * with every signal blocked, named "dialshim", with a stack of their own, and
 * never call a hooked name (the engine's code only: common/sys.h). At most
 * DRIVER_MAX threads run, at most DRIVER_KEY_MAX of them on jobs of one key
 * (the dialer: 256 dials stuck on a stalled proxy leave threads for dials
 * through others); jobs beyond wait in a FIFO queue, a job whose key has its
 * share letting later ones of other keys pass; a thread idle for
 * DRIVER_IDLE_S seconds ends. After fork the child has none (driver_atfork_*):
 * its queue is dropped (the jobs were the parent's) and it makes its own on
 * demand.
 */
#ifndef DIALSHIM_DRIVER_H
#define DIALSHIM_DRIVER_H

#define DRIVER_MAX     256
#define DRIVER_KEY_MAX 192
#define DRIVER_IDLE_S  10

/* Run FN(ARG) on a driver thread, soon; KEY: what the job waits on (the
 * dialer). Returns 0, or an errno (ENOMEM, EAGAIN: no memory or no thread
 * could be made, and none runs): FN is then not called. */
int driver_submit(void (*fn)(void *), void *arg, int key);

/* How many driver threads run now (for tests and log lines). */
int driver_threads(void);

void driver_atfork_prepare(void);
void driver_atfork_parent(void);
void driver_atfork_child(void);

#endif
