/* dnsresp: a DNS query message answered in the process, for the responders that
 * answer a program's own DNS (its datagrams to port 53 under the shim, the
 * supervisor's trapped ones) without a packet leaving the host.
 *
 * Promise: pure. No allocation, no lock, no system call, no global state; every
 * decision about a name comes from the caller's callbacks (struct dnsresp_ops),
 * so the same code serves any owner of the fake-address table.
 *   - dnsresp_parse accepts exactly one standard query: at least a 12-byte
 *     header, QR 0, opcode QUERY, QDCOUNT 1, ANCOUNT and NSCOUNT 0, a question of
 *     uncompressed labels (each 1..63 bytes of printable characters other than
 *     '.', the whole name at most DNSRESP_NAME_MAX characters) followed by type
 *     and class, all inside LEN. Additional records (EDNS) after the question
 *     are allowed and ignored. It never reads past LEN.
 *   - dnsresp_respond: for a query ops->way sends here, an answer with the
 *     query's ID and RD, QR and RA set, the question's bytes echoed (case kept):
 *     class IN A/AAAA: ops->lookup's addresses (TTL DNSRESP_TTL; EAI_NONAME ->
 *     NXDOMAIN, no address of that family -> empty NOERROR, other failures ->
 *     SERVFAIL); PTR of an address ops->name_of knows: that name; every other
 *     question: empty NOERROR. Answers that do not fit in CAP are left out and
 *     TC is set. ops->way REFUSE: REFUSED. Returns the answer's length, 0 when
 *     the query is not answered here (DNSRESP_PASS: send it on), -1 when MSG is
 *     not a query dnsresp_parse accepts or not even the header and question fit
 *     in CAP (OUT is then unspecified).
 *   - dnsresp_rcode: a bare answer (header only) to a message with at least a
 *     header, echoing its ID, with RCODE; for messages that cannot be routed.
 */
#ifndef DIALSHIM_DNSRESP_H
#define DIALSHIM_DNSRESP_H

#include "common/dnsaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSRESP_TTL       1   /* seconds: an answer must not outlive the fake table's entry */
#define DNSRESP_NAME_MAX  253 /* characters of a name in text, without the final dot */
#define DNSRESP_MAX_ADDRS 16  /* addresses one lookup may give */

#define DNSRESP_T_A    1
#define DNSRESP_T_PTR  12
#define DNSRESP_T_AAAA 28
#define DNSRESP_C_IN   1

#define DNSRESP_NOERROR  0
#define DNSRESP_FORMERR  1
#define DNSRESP_SERVFAIL 2
#define DNSRESP_NXDOMAIN 3
#define DNSRESP_REFUSED  5

struct dnsresp_query {
    uint16_t id;
    bool rd;
    uint16_t type, class;
    const uint8_t *q; /* the question on the wire (name, type, class), inside the message */
    size_t qlen;
    char name[DNSRESP_NAME_MAX + 1]; /* in text, without the final dot; "" for the root */
};

enum dnsresp_way { DNSRESP_PASS, DNSRESP_ANSWER, DNSRESP_REFUSE };

struct dnsresp_ops {
    void *ctx;
    /* Which way a question about NAME goes (for PTR: the arpa name). */
    enum dnsresp_way (*way)(void *ctx, const char *name);
    /* NAME's addresses of FAMILY: 0 with *N (1..cap) in OUT, or an EAI_* code. */
    int (*lookup)(void *ctx, const char *name, int family, struct dns_addr *out, size_t cap,
                  size_t *n);
    /* The name address A stands for, into NAME (CAP bytes): false when none. */
    bool (*name_of)(void *ctx, const struct dns_addr *a, char *name, size_t cap);
};

bool dnsresp_parse(const uint8_t *msg, size_t len, struct dnsresp_query *out);

/* The address an in-addr.arpa or ip6.arpa NAME (text, as dnsresp_parse gives
 * it) spells, in full (4 or 32 labels); false for anything else. */
bool dnsresp_arpa_addr(const char *name, struct dns_addr *out);

int dnsresp_respond(const uint8_t *msg, size_t len, const struct dnsresp_ops *ops, uint8_t *out,
                    size_t cap);

int dnsresp_rcode(const uint8_t *msg, size_t len, int rcode, uint8_t *out, size_t cap);

#endif
