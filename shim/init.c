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

static void *find(const char *name, void *self)
{
    void *p = dlsym(RTLD_NEXT, name);

    if (!p || p == self) {
        /* Nothing to fall back on: say so once on stderr and leave the pointer
         * NULL; hooks then fail with ENOSYS rather than recurse. */
        static const char msg[] = "dialshim: cannot find the real network functions\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
        }
        return NULL;
    }
    return p;
}

#define REAL(name) sys.name = (__typeof__(sys.name))find(#name, (void *)name)

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
}

void shim_resolve(void)
{
    pthread_once(&resolve_once, resolve);
}

static void load(void)
{
    shim_depth++;
    state_load();
    pthread_atfork(NULL, NULL, state_atfork_child);
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
