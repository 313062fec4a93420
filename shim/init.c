#include "shim/init.h"

#include "common/state.h"
#include "common/sys.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__thread int shim_depth __attribute__((tls_model("initial-exec")));

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* The real function: the next definition after ours. A lookup that lands in
 * our own library (a broken link order) would recurse forever: refuse it. */
static void *find(const char *name)
{
    static const char msg[] = "dialshim: cannot find the real network functions\n";
    Dl_info self, found;
    void *p = dlsym(RTLD_NEXT, name);

    if (p && dladdr((void *)find, &self) && dladdr(p, &found) && found.dli_fbase != self.dli_fbase)
        return p;
    if (p && !dladdr(p, &found))
        return p;
    /* Nothing to fall back on: say so on stderr; hooks then fail with ENOSYS. */
    if (write(2, msg, sizeof(msg) - 1) < 0) {
    }
    return NULL;
}

#define REAL(name) sys.name = (__typeof__(sys.name))find(#name)

static void resolve(void)
{
    REAL(socket);
    REAL(connect);
    REAL(close);
    REAL(read);
    REAL(recv);
    REAL(recvfrom);
    REAL(recvmsg);
    REAL(sendto);
    REAL(sendmsg);
    REAL(getaddrinfo);
    REAL(freeaddrinfo);
    REAL(getnameinfo);
    REAL(gethostbyname);
    REAL(gethostbyname2);
    REAL(gethostbyname_r);
    REAL(gethostbyname2_r);
    REAL(gethostbyaddr);
    REAL(gethostbyaddr_r);
}

void shim_resolve(void)
{
    pthread_once(&resolve_once, resolve);
}

static void load(void)
{
    shim_depth++;
    state_load();
    pthread_atfork(state_atfork_prepare, state_atfork_parent, state_atfork_child);
    shim_depth--;
}

bool shim_enter(void)
{
    shim_resolve();
    if (shim_depth > 0)
        return false;
    pthread_once(&load_once, load);
    shim_depth++;
    return true;
}

/* Load early in an ordinary start, so a bad file is reported before the program
 * runs; hooks called earlier (another library's constructor) load it themselves.
 * No thread is created here. */
__attribute__((constructor)) static void shim_constructor(void)
{
    shim_resolve();
    if (shim_depth == 0)
        pthread_once(&load_once, load);
}
