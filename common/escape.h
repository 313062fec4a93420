/* escape: bytes from outside (a proxy's host name, status line or reason) made
 * safe for one log line and for a terminal.
 *
 * Promise: the output is NUL-terminated printable ASCII (0x20..0x7e) only, never
 * longer than CAP - 1 bytes: a byte outside that range and the backslash itself
 * become \xNN (so the text can be read back unambiguously), and an input that does
 * not fit is cut before a whole escape and ends in "...". Pure: no allocation, no
 * state, any thread, any hook.
 */
#ifndef DIALSHIM_ESCAPE_H
#define DIALSHIM_ESCAPE_H

#include <stddef.h>

/* Room for N input bytes, every one escaped. */
#define ESCAPE_SIZE(n) ((n)*4 + 1)

/* N bytes of IN into OUT (CAP >= 1); returns OUT. */
const char *escape_bytes(char *out, size_t cap, const void *in, size_t n);

/* The same for a NUL-terminated string. */
const char *escape_str(char *out, size_t cap, const char *s);

#endif
