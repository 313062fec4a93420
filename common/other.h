/* other: inet sockets that are neither TCP nor UDP: UDP-Lite, ICMP ping sockets,
 * raw sockets, SCTP, DCCP, and AF_SMC sockets (which connect to inet addresses). No proxy carries them and no name reaches them, so
 * each destination they are connected or sent to is routed: to a direct dialer
 * it goes with that dialer's options (interface, mark, source address, as for
 * UDP), anywhere else it is refused with a log line. Raw and SCTP sockets can
 * reach destinations no call names (IP_HDRINCL headers; sctp_connectx through
 * setsockopt, SCTP_SENDV_* ancillary addresses): they are made only for an app
 * whose every dialer is direct with the same options, which they get when made.
 *
 * Promise: behaves like socket(2), connect(2), sendto(2) for the calls it lets
 * through; a refusal is EACCES (socket, connect) or EPERM (sends) and one log
 * line (sends: one per socket). Must be entered with state_load() done and an
 * active configuration.
 */
#ifndef DIALSHIM_OTHER_H
#define DIALSHIM_OTHER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* socket(2) for a kind the engine calls FD_OTHER; *KIND gets the fdtab bits of
 * options set on it (raw, SCTP). */
int other_socket(int domain, int type, int protocol, uint32_t *kind);

/* May FD (fdtab word FST) connect (SEND false) or send to SA? Sets the options of
 * the direct dialer SA routes to when they are not on yet. Returns 0 or an errno. */
int other_route(int fd, uint32_t fst, const struct sockaddr *sa, socklen_t len, bool send);

/* A call whose sends no hook sees: io_uring_setup(2) (a ring's connects), rcmd(3),
 * rexec(3), ruserok(3), getnetbyname(3) (libc connects and looks names up inside
 * itself). It may go ahead only where nothing is lost: every destination of the
 * app goes direct with no option to set. Returns 0 (call it) or ERR with a log
 * line naming CALL. */
int other_unseen(const char *call, int err);

#endif
