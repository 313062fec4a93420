/* learn: what `handshake = auto` learned of each SOCKS5 proxy: that it needs
 * lockstep (after a failed pipelined handshake), that it completed a pipelined
 * one, that it chose username/password in a method reply. A proxy on a loopback
 * address is never probed: it gets lockstep from the first connect (a pipelined
 * handshake saves it nothing).
 *
 * Promise: indexed by dialer (past LEARN_MAX nothing is learned: such a proxy
 * keeps trying pipelined first); read and written with relaxed atomics, no lock.
 * What is learned is kept in the state directory (common/statedir.h) when there
 * is one, keyed by the proxy's type and server: read once per process, at its
 * first proxy dial (learn_load); written atomically when something new is
 * learned; an entry older than a day is ignored. Only learn_load and a new fact
 * allocate or make system calls.
 */
#ifndef DIALSHIM_DIALER_LEARN_H
#define DIALSHIM_DIALER_LEARN_H

#include "conf/conf.h"

#include <stdbool.h>

#define LEARN_MAX 1024

/* Read what other processes learned, once per process. */
void learn_load(const struct conf *c);

/* Whether DIALER (proxy P) gets its handshake pipelined: always under `handshake
 * = pipelined`; under `auto` unless its server is a loopback address or it has
 * been learned to need lockstep, and with credentials only once it has chosen
 * username/password, so that a proxy that picks "no auth" or none of our methods
 * never sees them. */
bool learn_may_pipeline(const struct conf_dialer *p, int dialer);

/* DIALER completed a pipelined handshake before. */
bool learn_proven(int dialer);

void learn_pipelined(const struct conf *c, int dialer);
void learn_lockstep(const struct conf *c, int dialer);
void learn_userpass(const struct conf *c, int dialer);

#endif
