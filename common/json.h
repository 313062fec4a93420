/* json: text made safe for a JSON document (RFC 8259), for the log lines of
 * log_format = json (common/log.h log_kv).
 *
 * Promise: json_str appends S to OUT as one JSON string: between double quotes,
 * '"' and '\' escaped with a backslash and every byte outside 0x20..0x7e as
 * \u00XX (the byte read as Latin-1), so what it writes is ASCII and parses
 * whatever S holds. It never writes at or past OUT[CAP - KEEP]: a string that does
 * not fit is cut before a whole escape and ends in "..." inside the quotes, which
 * are always both written. Pure: no allocation, no state, any thread, any hook.
 */
#ifndef DIALSHIM_JSON_H
#define DIALSHIM_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* S as a JSON string at OUT + *OFF, *OFF moved past it and OUT NUL-terminated;
 * bytes from CAP - KEEP on are left for the caller. False, with nothing written,
 * when not even "" (and the NUL) fits. */
bool json_str(char *out, size_t cap, size_t keep, size_t *off, const char *s);

#endif
