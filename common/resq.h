/* resq: the policy behind the lookups getaddrinfo does not see: the res_* query
 * calls (res_query, res_search, res_querydomain, res_send and their res_n* and
 * __res_* forms) and getaddrinfo_a.
 *
 * Promise: a name takes the same route as in getaddrinfo (common/netdb.h):
 *   - no configuration, or a route that resolves names for real: the real call
 *     (RESQ_PASS), as without the shim;
 *   - mode fake_ip: a query of class IN for A or AAAA is answered here with a DNS
 *     message (the fake addresses, or the resolver's hosts file's; the question
 *     echoed, QR and RA set, the query's ID for res_send, TTL RESQ_TTL); any other
 *     question is NODATA (-1, h_errno NO_DATA) when the route's proxy gets names
 *     (remote_dns), and passes otherwise;
 *   - a `block` route: -1, h_errno NO_RECOVERY; a broken file with fail_closed:
 *     -1, h_errno NO_RECOVERY, errno EACCES;
 * A message res_send cannot parse is refused when the app's default route is
 * fake_ip. Every refusal and every answer made here is logged (info). Nothing
 * here calls a hooked function by name; nothing here sends a packet.
 */
#ifndef DIALSHIM_RESQ_H
#define DIALSHIM_RESQ_H

#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESQ_TTL 1 /* seconds: a fake answer must not outlive the table's entry */

struct dns_addr;

/* The outcome of a res_* call: RESQ_PASS (call the real function) or a return
 * value (a length, or -1 with h_errno and *HERR set). */
#define RESQ_PASS (-2)

/* res_query/res_search on NAME.
 * HERR: where res_n* keep h_errno (res_state's res_h_errno), or NULL. */
int resq_query(const char *call, const char *name, int class, int type, unsigned char *answer,
               int anslen, int *herr);

/* res_querydomain: NAME.DOMAIN (NAME alone when DOMAIN is NULL). */
int resq_querydomain(const char *call, const char *name, const char *domain, int class, int type,
                     unsigned char *answer, int anslen, int *herr);

/* res_send on the query message MSG (MSGLEN bytes). */
int resq_send(const char *call, const unsigned char *msg, int msglen, unsigned char *answer,
              int anslen, int *herr);

/* The answer to a query whose question is Q (QLEN bytes: name, type, class, as
 * on the wire), with header ID and the RD bit of the query: N addresses of
 * FAMILY's length each. Answers that do not fit in CAP are left out (TC set).
 * Returns the length, or -1 when not even the question fits. Pure. */
int resq_answer(uint16_t id, bool rd, const uint8_t *q, size_t qlen, const struct dns_addr *addrs,
                size_t n, uint8_t *out, size_t cap);

/* One getaddrinfo_a request: true when it was answered here (REQ's result and
 * its error, as gai_error reads it, are set) because its route answers without a
 * query (fake_ip, block, refusal); false: the real getaddrinfo_a takes it. */
bool resq_gai_take(struct gaicb *req);

/* For `dialshim explain`: what the res_* calls and getaddrinfo_a do with a name
 * (ADDRESS false), or a reverse lookup with an address (true), routed to DIALER. */
struct conf;
const char *resq_explain(const struct conf *c, int dialer, bool address);

#endif
