/* dnsanswer: the pieces every source of a DNS answer shares (the numeric,
 * localhost and hosts-file answers, c-ares, the cache): comparing and checking
 * names, and filling a struct dns_answer.
 *
 * Promise: pure functions over the caller's memory; no allocation, no lock, no
 * system call. Names compare case-insensitively, one trailing dot ignored.
 */
#ifndef DIALSHIM_DNSANSWER_H
#define DIALSHIM_DNSANSWER_H

#include "common/dns.h"

#include <stdbool.h>
#include <stdint.h>

/* "a.example." and "A.example" are one name. */
bool dns_name_eq(const char *a, const char *b);

/* Worth a lookup: 1-253 characters besides a trailing dot, labels of 1-63, no
 * blanks or control characters (they could never be in a reply). */
bool dns_name_valid(const char *s);

/* An empty answer from DNS. */
void dns_answer_reset(struct dns_answer *out);

/* NAME, without a trailing dot and cut to fit, as OUT's canonical name. */
void dns_answer_set_canon(struct dns_answer *out, const char *name);

/* Appends ADDR (4 or 16 bytes by FAMILY) unless already there or full; false
 * only when full. */
bool dns_answer_add(struct dns_answer *out, int family, const void *addr, uint32_t scope,
                    uint32_t ttl);

#endif
