/* state: the process's loaded configuration and who the process is.
 *
 * Promise: state_capture() runs once per process image, from the constructor (or
 * the first hook, if that comes first); it only reads: the environment, the file's
 * bytes, /proc/self/exe, so a program that later chroots, drops privileges or
 * clears its environment keeps its policy, and one that never touches the network
 * pays a few system calls. state_load() runs once after it, on the first hook that
 * needs the policy (the shim calls both under pthread_once); it may read
 * /proc/self/exe then (a name pattern is also tried on the executable's basename),
 * records the process as the owner of the shim's memory (common/owner.h) and sets or clears
 * DIALSHIM_PARENT_APP for the processes this one starts
 * (`[app] inherit`); after it returns,
 * `state` never changes, so every hook reads it without a lock. Neither exits nor
 * aborts: a bad file leaves state.broken set and the errors logged.
 */
#ifndef DIALSHIM_STATE_H
#define DIALSHIM_STATE_H

#include "common/route.h"
#include "conf/conf.h"

#include <limits.h>

struct state {
    struct conf *conf; /* NULL: no file (the shim passes everything) or a broken one */
    bool active;       /* conf loaded: hooks apply it */
    bool broken;       /* the file is bad and on_config_error = fail_closed: EACCES */
    bool dns_hijack;   /* fake addresses are on and dns_hijack: port-53 queries answered here */
    int app;           /* index into conf->apps, or APP_BUILTIN */
    int app_dialer;    /* that app's default dialer */
    enum app_reason app_why;
    const char *app_matched; /* the match pattern that chose the app */
    char prog[64];           /* basename, for logs */
    const char *exe;         /* /proc/self/exe, "" if unknown */
    const char *path;        /* the configuration file, "" when none */
};

extern struct state state;

/* What a hook does with a call on a socket of FAMILY, as the configuration
 * stands. PASS: call the real function; DENY: fail with EACCES (a broken
 * configuration, fail_closed); HANDLE: call the engine. */
enum gate { GATE_PASS, GATE_DENY, GATE_HANDLE };
enum gate state_gate(int family);

/* Where the configuration is, per dialshim(1) FILES: DIALSHIM_CONFIG, then
 * $XDG_CONFIG_HOME (or ~/.config)/dialshim/dialshim.ini, then /etc/dialshim.ini;
 * environment ignored under AT_SECURE. Returns false when no file is there
 * (DIALSHIM_CONFIG set to a missing file returns true: that is an error to report). */
bool state_find_config(char *out, size_t cap);

/* True in a secure-execution process (setuid and the like). */
bool state_secure(void);

/* Environment lookup that honours AT_SECURE (returns NULL there). */
const char *state_env(const char *name);

void state_capture(void);
void state_load(void);

/* pthread_atfork handlers: modules with locks take them before fork and make
 * them usable again on both sides after it; the child becomes the owner. */
void state_atfork_prepare(void);
void state_atfork_parent(void);
void state_atfork_child(void);

#endif
