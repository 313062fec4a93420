/* dnsanswer: the answer a name lookup gives (struct dns_answer) and the pieces
 * every source of one shares (the numeric, localhost and hosts-file answers,
 * c-ares, the cache): comparing and checking names, filling an answer.
 *
 * Promise: pure functions over the caller's memory; no allocation, no lock, no
 * system call. Names compare case-insensitively, one trailing dot ignored.
 */
#ifndef DIALSHIM_DNSANSWER_H
#define DIALSHIM_DNSANSWER_H

#include "common/dnsaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_ADDRS 32   /* per answer; more are dropped, keeping both families */
#define DNS_NAME_MAX  256  /* canonical name, with its NUL */
#define DNS_MAX_TTL   3600 /* seconds: longer TTLs are shortened to this */

enum dns_source { DNS_SRC_NUMERIC, DNS_SRC_LOCALHOST, DNS_SRC_HOSTS, DNS_SRC_DNS, DNS_SRC_CACHE };

struct dns_answer {
    size_t n;                             /* 0 on any error */
    struct dns_addr addrs[DNS_MAX_ADDRS]; /* in the order common/dns.h describes */
    char canonname[DNS_NAME_MAX];         /* end of the CNAME chain; the name itself without one */
    uint32_t ttl;                         /* smallest TTL of the answer; 0 for local answers */
    enum dns_source source;
};

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
