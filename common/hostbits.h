/* hostbits: the network part of an address.
 *
 * Promise: a pure function; no allocation, no lock, no system call. It depends
 * on nothing else in the tree, so conf/ may use it as well as common/.
 */
#ifndef DIALSHIM_HOSTBITS_H
#define DIALSHIM_HOSTBITS_H

#include <stddef.h>
#include <stdint.h>

/* Zeroes every bit of A (ALEN bytes, network order) past the first PREFIX. */
void clear_host_bits(uint8_t *a, size_t alen, int prefix);

#endif
