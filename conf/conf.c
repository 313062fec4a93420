/* The public side of conf/: loading from a file or a string, reporting, freeing,
 * lookups and the effective values that depend on more than one key.
 * This runs inside other people's processes: no printing, no exit, every
 * problem goes to the caller's callback. */
#include "conf/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (1024 * 1024) /* a configuration is small; refuse what is not */

void conf_report(struct parser *p, int line, const char *fmt, ...)
{
    struct diag *d;
    char msg[768];
    va_list ap;

    if (p->scan)
        return; /* the fallback scan reads a file known to be broken: it only looks */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (strncmp(msg, "warning: ", 9) != 0)
        p->n_errors++;
    d = realloc(p->diags, (size_t)(p->n_diags + 1) * sizeof(*d));
    if (!d) {
        p->oom = true;
        return;
    }
    p->diags = d;
    d += p->n_diags;
    d->line = line;
    d->seq = p->n_diags++;
    d->msg = strdup(msg);
    if (!d->msg)
        p->oom = true;
}

bool conf_reported_at(const struct parser *p, int line)
{
    for (int i = 0; i < p->n_diags; i++)
        if (p->diags[i].line == line)
            return true;
    return false;
}

static int by_line(const void *a, const void *b)
{
    const struct diag *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* In file order, whatever order the checks found them in. */
static void emit(struct parser *p, conf_error_fn err, void *ctx)
{
    if (p->n_diags > 1)
        qsort(p->diags, (size_t)p->n_diags, sizeof(*p->diags), by_line);
    for (int i = 0; err && i < p->n_diags; i++)
        if (p->diags[i].msg)
            err(ctx, p->file, p->diags[i].line, p->diags[i].msg);
    if (err && p->oom)
        err(ctx, p->file, 0, "out of memory");
}

static void parser_free(struct parser *p)
{
    for (int i = 0; i < p->n_refs; i++)
        free(p->refs[i].name);
    free(p->refs);
    for (int i = 0; i < p->n_diags; i++)
        free(p->diags[i].msg);
    free(p->diags);
}

static struct conf *conf_new(const char *name)
{
    struct conf *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    snprintf(c->path, sizeof(c->path), "%s", name);
    c->log_level = LOG_LVL_WARN;
    strcpy(c->log_file, "stderr");
    c->default_app = -1;
    c->direct = -1;
    c->fake_ip_range.addr.s_addr = htonl(0xc6120000); /* 198.18.0.0/15 */
    c->fake_ip_range.prefix = 15;
    c->fake_ip6_range.addr.s6_addr[0] = 0xfc; /* fc00::/18 */
    c->fake_ip6_range.prefix = 18;
    c->on_config_error = ON_ERROR_FAIL_CLOSED;
    c->dns_hijack = true;
    return c;
}

/* MODE: the file's permissions, 0 when loaded from a string. */
static struct conf *load_text(const char *name, const char *text, size_t len, mode_t mode,
                              conf_error_fn err, void *ctx)
{
    struct parser p = {.file = name, .in = {.text = text, .len = len}};

    p.c = conf_new(name);
    if (!p.c) {
        if (err)
            err(ctx, name, 0, "out of memory");
        return NULL;
    }
    conf_parse_text(&p);
    conf_finish(&p);
    if (p.password_line && (mode & (S_IRGRP | S_IROTH))) {
        p.c->secret_readable = true;
        conf_report(&p, p.password_line,
                    "warning: %s holds a password and is readable by others (chmod 600)", name);
    }
    emit(&p, err, ctx);
    if (p.n_errors || p.oom) {
        conf_free(p.c);
        p.c = NULL;
    }
    parser_free(&p);
    return p.c;
}

struct conf *conf_load_string(const char *name, const char *text, conf_error_fn err, void *ctx)
{
    return load_text(name, text, strlen(text), 0, err, ctx);
}

struct conf *conf_load_text(const char *name, const char *text, size_t len, mode_t mode,
                            conf_error_fn err, void *ctx)
{
    return load_text(name, text, len, mode, err, ctx);
}

static void report_errno(const char *path, const char *what, int e, conf_error_fn err, void *ctx)
{
    char buf[128], msg[192];

    if (!err)
        return;
    snprintf(msg, sizeof(msg), "%s: %s", what, strerror_r(e, buf, sizeof(buf)));
    err(ctx, path, 0, msg);
}

/* The whole file (SIZE bytes by fstat, fewer if it shrank), NUL-terminated;
 * NULL with errno set. */
static char *read_all(FILE *f, size_t size, size_t *len)
{
    char *buf = malloc(size + 1);

    if (!buf)
        return NULL;
    *len = fread(buf, 1, size, f);
    if (ferror(f)) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* stdio, not read(2)/close(2): inside the shim those are hooks, and loading the
 * file from the constructor must not wake the hook machinery up. */
struct conf *conf_load(const char *path, conf_error_fn err, void *ctx)
{
    FILE *f = fopen(path, "re");
    const char *why = NULL;
    struct conf *c;
    struct stat st;
    size_t len;
    char *text;

    if (!f) {
        report_errno(path, "cannot open", errno, err, ctx);
        return NULL;
    }
    if (fstat(fileno(f), &st) < 0) {
        report_errno(path, "cannot open", errno, err, ctx);
        fclose(f);
        return NULL;
    }
    /* A FIFO or a device could block the host program's start-up forever. */
    if (!S_ISREG(st.st_mode))
        why =
            S_ISDIR(st.st_mode) ? "cannot open: Is a directory" : "cannot open: not a regular file";
    else if (st.st_size > FILE_MAX)
        why = "cannot read: file too large (max 1 MiB)";
    if (why) {
        if (err)
            err(ctx, path, 0, why);
        fclose(f);
        return NULL;
    }
    text = read_all(f, (size_t)st.st_size, &len);
    if (!text) {
        report_errno(path, "cannot read", errno, err, ctx);
        fclose(f);
        return NULL;
    }
    fclose(f);
    c = load_text(path, text, len, st.st_mode, err, ctx);
    free(text);
    return c;
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_dialers; i++)
        explicit_bzero(c->dialers[i].password, sizeof(c->dialers[i].password));
    for (int i = 0; i < c->n_apps; i++)
        free(c->apps[i].rules);
    free(c->dialers);
    free(c->resolvers);
    free(c->apps);
    free(c);
}

int conf_dialer_index(const struct conf *c, const char *name)
{
    for (int i = 0; i < c->n_dialers; i++)
        if (strcmp(c->dialers[i].name, name) == 0)
            return i;
    return -1;
}

int conf_resolver_index(const struct conf *c, const char *name)
{
    for (int i = 0; i < c->n_resolvers; i++)
        if (strcmp(c->resolvers[i].name, name) == 0)
            return i;
    return -1;
}

int conf_app_index(const struct conf *c, const char *name)
{
    for (int i = 0; i < c->n_apps; i++)
        if (strcmp(c->apps[i].name, name) == 0)
            return i;
    return -1;
}

uint32_t conf_connect_timeout(const struct conf *c, int dialer)
{
    const struct conf_dialer *d;

    if (dialer < 0 || dialer >= c->n_dialers)
        return 0;
    d = &c->dialers[dialer];
    if (d->connect_timeout_ms)
        return d->connect_timeout_ms;
    /* A proxy that accepts and then stalls, or a name whose addresses are all
     * dead, must not hang the program for the kernel's two minutes. */
    return d->type == DIALER_BLOCK ? 0 : CONF_CONNECT_TIMEOUT_DEFAULT_MS;
}

int conf_dns_dialer(const struct conf *c, int dialer)
{
    int res, k = dialer;

    if (!c || dialer < 0 || dialer >= c->n_dialers)
        return -1;
    res = c->dialers[dialer].domain_resolver;
    if (res >= 0 && res < c->n_resolvers && c->resolvers[res].detour >= 0)
        return c->resolvers[res].detour;
    /* bounded: cycles are refused at load, but never loop on a bad table */
    for (int steps = 0; steps <= c->n_dialers && k >= 0 && k < c->n_dialers; steps++) {
        const struct conf_dialer *d = &c->dialers[k];
        if (d->type == DIALER_BLOCK)
            return -1;
        if (d->type == DIALER_DIRECT || d->detour < 0)
            return k;
        k = d->detour;
    }
    return -1;
}

enum udp_mode conf_udp_mode(const struct conf_dialer *d)
{
    if (d->udp != UDP_UNSET)
        return d->udp;
    if (d->type == DIALER_DIRECT)
        return UDP_ALLOW;
    /* A group's datagrams go as its picked member's do. */
    return d->type == DIALER_SOCKS5 || d->type == DIALER_GROUP ? UDP_ASSOCIATE : UDP_BLOCK;
}

bool conf_remote_dns(const struct conf_dialer *d)
{
    return d->remote_dns == TRI_TRUE;
}
