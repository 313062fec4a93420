/* dialshim import FILE: reading the file, telling proxychains-ng's format from
 * torsocks's, and the line helpers both importers use (tools/import.h). */
#include "tools/import.h"

#include "common/escape.h"
#include "common/sys.h"
#include "tools/tool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define IMPORT_FILE_MAX (1 << 20) /* no configuration file of either tool is larger */

bool imp_next_line(const char **p, const char *end, char *buf, size_t cap, bool *lng)
{
    const char *s = *p, *nl;
    size_t n;

    if (s >= end)
        return false;
    nl = memchr(s, '\n', (size_t)(end - s));
    n = (size_t)((nl ? nl : end) - s);
    *p = nl ? nl + 1 : end;
    *lng = n >= cap;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (n && buf[n - 1] == '\r')
        buf[n - 1] = '\0';
    return true;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '=';
}

int imp_split(char *line, char **tok, int max)
{
    int n = 0;
    char *s = line;

    for (;;) {
        while (*s && blank(*s))
            s++;
        if (!*s || *s == '#')
            return n;
        if (n < max)
            tok[n] = s;
        n++;
        while (*s && !blank(*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
}

int imp_mask_prefix(const char *mask)
{
    struct in_addr a;
    uint32_t m;
    int n = 0;

    if (inet_pton(AF_INET, mask, &a) != 1)
        return -1;
    m = ntohl(a.s_addr);
    while (n < 32 && (m & (0x80000000u >> n)))
        n++;
    return n == 32 || (m << n) == 0 ? n : -1;
}

bool imp_value_ok(const char *v)
{
    size_t n = strnlen(v, IMP_VALUE_MAX + 1);

    if (n == 0 || n > IMP_VALUE_MAX || v[0] == ';' || v[0] == '#')
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] > '~')
            return false;
    return true;
}

bool imp_server(const char *host, const char *port, char *out, size_t cap)
{
    unsigned char a[16];
    size_t n = strlen(port);
    long p;
    int w;

    if (n == 0 || n > 5 || strspn(port, "0123456789") != n)
        return false;
    p = strtol(port, NULL, 10);
    if (p < 1 || p > 65535)
        return false;
    if (inet_pton(AF_INET, host, a) == 1)
        w = snprintf(out, cap, "%s:%ld", host, p);
    else if (inet_pton(AF_INET6, host, a) == 1)
        w = snprintf(out, cap, "[%s]:%ld", host, p);
    else
        return false;
    return w > 0 && (size_t)w < cap;
}

const char *imp_word(const char *tok, char *buf, size_t cap)
{
    return escape_bytes(buf, cap, tok, strnlen(tok, 40));
}

/* TEXT as "; " lines cut at blanks, none longer than about 100 bytes. */
static void put_wrapped(FILE *out, const char *text)
{
    const size_t width = 96;

    while (*text) {
        size_t n = strlen(text), cut = n;
        if (n > width) {
            cut = width;
            while (cut > width / 2 && text[cut] != ' ')
                cut--;
            if (text[cut] != ' ')
                cut = width;
        }
        fprintf(out, "; %.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

void imp_comment(struct imp *im, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    put_wrapped(im->out, buf);
}

static void vnote(struct imp *im, int line, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "line %d: ", line);

    vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    n = (int)strlen(buf);
    if (im->n_notes + (size_t)n + 2 > sizeof(im->notes))
        return; /* the warnings on stderr still say it */
    memcpy(im->notes + im->n_notes, buf, (size_t)n + 1);
    im->n_notes += (size_t)n + 1;
}

void imp_note(struct imp *im, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnote(im, line, fmt, ap);
    va_end(ap);
}

void imp_warn(struct imp *im, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(im->err, "%s:%d: warning: ", im->name, line);
    vfprintf(im->err, fmt, ap);
    fputc('\n', im->err);
    va_end(ap);
    va_start(ap, fmt);
    vnote(im, line, fmt, ap);
    va_end(ap);
    im->warnings++;
}

static const char *const pc_words[] = {"strict_chain",
                                       "dynamic_chain",
                                       "random_chain",
                                       "round_robin_chain",
                                       "chain_len",
                                       "proxy_dns",
                                       "proxy_dns_old",
                                       "proxy_dns_daemon",
                                       "remote_dns_subnet",
                                       "tcp_read_time_out",
                                       "tcp_connect_time_out",
                                       "localnet",
                                       "dnat",
                                       "quiet_mode",
                                       "[proxylist]"};
static const char *const ts_words[] = {
    "toraddress",    "torport",      "onionaddrrange",         "onhostaddrrange",
    "isolatepid",    "allowinbound", "allowoutboundlocalhost", "socks5username",
    "socks5password"};

static bool listed(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(w, list[i]) == 0)
            return true;
    return false;
}

enum import_kind import_detect(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    char line[IMP_LINE_MAX], *tok[1];
    bool lng;

    while (imp_next_line(&p, end, line, sizeof(line), &lng)) {
        if (imp_split(line, tok, 1) < 1)
            continue;
        if (listed(tok[0], pc_words, sizeof(pc_words) / sizeof(pc_words[0])))
            return IMPORT_PROXYCHAINS;
        if (listed(tok[0], ts_words, sizeof(ts_words) / sizeof(ts_words[0])))
            return IMPORT_TORSOCKS;
    }
    return IMPORT_UNKNOWN;
}

int import_text(const char *name, const char *text, size_t len, FILE *out, FILE *err)
{
    struct imp *im;
    enum import_kind k = import_detect(text, len);

    if (k == IMPORT_UNKNOWN) {
        fprintf(err,
                "%s:0: neither a proxychains.conf nor a torsocks.conf (no line names a "
                "setting of either)\n",
                name);
        return EXIT_USAGE;
    }
    im = calloc(1, sizeof(*im));
    if (!im) {
        fprintf(err, "dialshim: import: out of memory\n");
        return EXIT_USAGE;
    }
    im->name = name;
    im->out = out;
    im->err = err;
    if (k == IMPORT_PROXYCHAINS)
        import_proxychains(im, text, len);
    else
        import_torsocks(im, text, len);
    free(im);
    return 0;
}

/* The notes about input lines, for the top of the output. */
void imp_put_notes(struct imp *im)
{
    for (size_t off = 0; off < im->n_notes; off += strlen(im->notes + off) + 1)
        put_wrapped(im->out, im->notes + off);
}

/* The file, whole: a regular file only (never waiting on a FIFO), at most
 * IMPORT_FILE_MAX bytes. Returns the bytes (NUL-terminated) or NULL. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    char *buf = NULL;
    struct stat st;
    FILE *f;

    if (fd < 0) {
        fprintf(stderr, "%s:0: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > IMPORT_FILE_MAX) {
        fprintf(stderr, "%s:0: not a regular file of at most %d bytes\n", path, IMPORT_FILE_MAX);
        sys.close(fd);
        return NULL;
    }
    f = fdopen(fd, "r");
    if (!f) {
        sys.close(fd);
        return NULL;
    }
    buf = malloc(IMPORT_FILE_MAX + 1);
    if (buf) {
        *len = fread(buf, 1, IMPORT_FILE_MAX, f);
        buf[*len] = '\0';
        if (ferror(f)) {
            fprintf(stderr, "%s:0: cannot read: %s\n", path, strerror(errno));
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

int cmd_import(int argc, char **argv)
{
    size_t len = 0;
    char *text;
    int rc;

    if (argc != 1) {
        fputs("usage: dialshim import FILE\n", stderr);
        return EXIT_USAGE;
    }
    text = read_file(argv[0], &len);
    if (!text)
        return EXIT_USAGE;
    rc = import_text(argv[0], text, len, stdout, stderr);
    free(text);
    return rc;
}

void imp_each_line(struct imp *im, const char *text, size_t len,
                   bool (*line)(struct imp *im, void *ctx, int no, char **t, int n), void *ctx)
{
    const char *p = text, *end = text + len;
    char buf[IMP_LINE_MAX], *t[IMP_TOKENS], w[64];
    int no = 0, n;
    bool lng;

    while (imp_next_line(&p, end, buf, sizeof(buf), &lng)) {
        no++;
        if (lng) {
            imp_warn(im, no, "a line longer than %d bytes: left out", IMP_LINE_MAX - 1);
            continue;
        }
        n = imp_split(buf, t, IMP_TOKENS);
        if (n > IMP_TOKENS)
            n = IMP_TOKENS;
        if (n > 0 && !line(im, ctx, no, t, n))
            imp_warn(im, no, "'%s' not understood: left out", imp_word(t[0], w, sizeof(w)));
    }
}
