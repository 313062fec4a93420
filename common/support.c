#include "common/support.h"

#include <stdio.h>

static int refuse(const struct conf *c, int line, conf_error_fn err, void *ctx, const char *what)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "%s is not supported yet", what);
    err(ctx, c->path, line, msg);
    return 1;
}

int support_check(const struct conf *c, conf_error_fn err, void *ctx)
{
    int n = 0;

    for (int i = 0; i < c->n_dialers; i++) {
        const struct conf_dialer *d = &c->dialers[i];
        char what[128];

        if (d->type != DIALER_DIRECT && d->type != DIALER_BLOCK && d->type != DIALER_GROUP &&
            d->server.addr.len == 0) {
            snprintf(what, sizeof(what), "[dialer %s] a server given by name (use its address)",
                     d->name);
            n += refuse(c, d->line, err, ctx, what);
        }
    }
    return n;
}
