/* isolate: the credentials a SOCKS5 dialer with `isolate` sends (dialshim.ini(5)
 * isolate; docs/architecture.md "The path of a connect"), so that Tor's
 * IsolateSOCKSAuth gives every process, or every [app], circuits of its own.
 *
 * Promise: isolate_credentials() gives the username and password to send to P:
 * its own when isolate is none; `dialshim-PID-STARTTIME` (the process's start
 * time in clock ticks, /proc/self/stat, so a reused pid never shares a username)
 * or `dialshim-app-APP` (the process's [app], `default` for the built-in one),
 * password `0`, otherwise. Any thread may call it at once; it allocates nothing,
 * reads /proc once per process (again in a forked child), never a hooked name.
 */
#ifndef DIALSHIM_ISOLATE_H
#define DIALSHIM_ISOLATE_H

#include "conf/conf.h"

#include <stddef.h>

/* USER: a buffer of CAP bytes (CONF_CRED_MAX is enough) that *USERNAME may point
 * into. *USERNAME and *PASSWORD are NULL when P sends no credentials. */
void isolate_credentials(const struct conf_dialer *p, char *user, size_t cap, const char **username,
                         const char **password);

#endif
