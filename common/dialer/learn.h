/* learn: what `handshake = auto` learned of each SOCKS5 proxy, for the life of
 * the process: that it needs lockstep (after a failed pipelined handshake), that
 * it completed a pipelined one, that it chose username/password in a method reply.
 *
 * Promise: indexed by dialer (past LEARN_MAX nothing is learned: such a proxy
 * keeps trying pipelined first); read and written with relaxed atomics, no lock,
 * no allocation, no system call.
 */
#ifndef DIALSHIM_DIALER_LEARN_H
#define DIALSHIM_DIALER_LEARN_H

#include "conf/conf.h"

#include <stdbool.h>

#define LEARN_MAX 1024

/* Whether DIALER (proxy P) gets its handshake pipelined: always under `handshake
 * = pipelined`; under `auto` until it has been learned to need lockstep, and with
 * credentials only once it has chosen username/password, so that a proxy that
 * picks "no auth" or none of our methods never sees them. */
bool learn_may_pipeline(const struct conf_dialer *p, int dialer);

/* DIALER completed a pipelined handshake before. */
bool learn_proven(int dialer);

void learn_pipelined(int dialer);
void learn_lockstep(int dialer);
void learn_userpass(int dialer);

#endif
