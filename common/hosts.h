/* hosts: the resolver's hosts file (dialshim.ini(5) hosts_file), read as glibc
 * reads /etc/hosts: "ADDR NAME [ALIAS...] [# comment]".
 *
 * Promise: hosts_answer() adds every address of the family asked for that the
 * file gives NAME (or an alias of it), in file order, the canonical name being
 * the first name of the first matching line. The file is kept in memory (at most
 * HOSTS_FILE_MAX bytes; a larger one, a missing one or one that is not a regular
 * file maps nothing) and read again only when its size, mtime or inode changed,
 * stat'ed at most once a second, so a cache hit costs no file I/O. One lock,
 * never held across anything but the file's own read; fork-safe through the
 * hosts_atfork_* handlers (dns_atfork_* call them).
 */
#ifndef DIALSHIM_HOSTS_H
#define DIALSHIM_HOSTS_H

#include "common/dnsanswer.h"
#include "conf/conf.h"

#include <stdbool.h>

/* True when PATH maps NAME to an address of FAMILY (added to OUT). */
bool hosts_answer(const char *path, const char *name, int family, struct dns_answer *out);

void hosts_atfork_prepare(void);
void hosts_atfork_parent(void);
void hosts_atfork_child(void);

#endif
