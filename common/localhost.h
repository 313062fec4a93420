/* localhost: the names that are always loopback.
 *
 * Promise: a pure function; no allocation, no lock, no system call.
 */
#ifndef DIALSHIM_LOCALHOST_H
#define DIALSHIM_LOCALHOST_H

#include <stdbool.h>

/* `localhost` and the names below it (RFC 6761 6.3), any case, with or without
 * one trailing dot: loopback, answered here and never asked of a resolver. Not
 * so in glibc, which asks DNS when /etc/hosts lacks the family (or the name has
 * a trailing dot). */
bool is_localhost(const char *name);

#endif
