/* supervise: run a program that LD_PRELOAD cannot reach (statically linked, Go)
 * under a seccomp supervisor: the dialshim process itself forks the program with
 * a filter that hands its connect, sendto (with an address), sendmsg and
 * sendmmsg calls to the supervisor, which routes and dials them with the same
 * route and dialers as the shim (docs/architecture.md, "The supervisor").
 *
 * Promise: a program that needs the supervisor and cannot have it never runs
 * unproxied: a missing kernel feature, a refused ptrace permission or a failed
 * filter is a clear error on stderr and exit status 126 before the program
 * runs; `supervise = never` refuses (exit 2) a program whose routes are not all
 * direct unless --no-supervise. The program dies with its supervisor (SIGKILL).
 */
#ifndef DIALSHIM_TOOLS_SUPERVISE_H
#define DIALSHIM_TOOLS_SUPERVISE_H

#include "conf/conf.h"

/* What the command line asked: --supervise (1), --no-supervise (-1), neither (0). */
struct supervise_run {
    const char *config; /* absolute path of the checked file */
    const char *app;    /* -p APP or NULL */
    const char *level;  /* -l LEVEL or NULL */
    const char *file;   /* the program's file, as execvp will find it */
    char **argv;
    int force;
};

/* SUPERVISE_PRELOAD: run with the shim preloaded (the caller warns and execs);
 * otherwise the exit status to return (the program's, once supervised). */
#define SUPERVISE_PRELOAD (-1)
int supervise_maybe(const struct supervise_run *r);

/* For `explain -n PROGRAM`: one line, how `dialshim run` would start PROGRAM. */
void supervise_explain(const struct conf *c, const char *program);

#endif
