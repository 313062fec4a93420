/* values: the grammar of one value of the file, a function per kind.
 *
 * Promise: each parser reads one whole value (no surrounding blanks) and returns
 * 0, or -1 with a short reason in WHY (at least 128 bytes); pure, no allocation.
 * The key setters of conf/ use them; so do the unit tests and the fuzzers, which
 * give them every odd input.
 */
#ifndef DIALSHIM_CONF_VALUES_H
#define DIALSHIM_CONF_VALUES_H

#include "conf/conf.h"

int conf_parse_duration_ms(const char *s, uint32_t *out, char *why);
int conf_parse_bool(const char *s, bool *out, char *why);
int conf_parse_mark(const char *s, uint32_t *out, char *why);
/* "1.2.3.4", "[2001:db8::1]", optionally ":port". DEFAULT_PORT >= 0: the port
 * is optional and defaults to it; -1: a port is required; -2: none allowed. */
int conf_parse_addr(const char *s, int default_port, struct conf_addr *out, char *why);
int conf_parse_cidr(const char *s, struct conf_rule *out, char *why);
/* "MATCHER -> DIALER": fills the matcher and copies the dialer's name. */
int conf_parse_route(const char *s, struct conf_rule *out, char *dialer_name, char *why);

#endif
