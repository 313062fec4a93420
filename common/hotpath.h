/* HOT_PATH: a function of the direct connect's fast path (the socket, connect,
 * setsockopt and close hooks of a socket a direct dialer serves, and what they
 * call).
 *
 * Why: the compiler puts such functions in .text.hot, which the linker lays out
 * as one block of about 12 KiB, instead of a dozen places in 250 KiB of code.
 * Every system call of the program runs a few microseconds of kernel code (with
 * the mitigations of a virtual machine) that evicts the shim's lines from the
 * first-level caches; the hook that runs next fetches them again, and fewer,
 * denser lines and pages are cheaper to fetch. Mark only what a direct connect
 * runs, so the block stays small.
 */
#ifndef DIALSHIM_HOTPATH_H
#define DIALSHIM_HOTPATH_H

#define HOT_PATH __attribute__((hot))

/* RARE_PATH: a branch of a HOT_PATH function that a direct connect with common
 * options never takes (a namespace, a protector, IP_TRANSPARENT), kept out of the
 * block instead of inlined into it. */
#define RARE_PATH __attribute__((cold, noinline))

#endif
