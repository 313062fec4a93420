/* Reading the INI text. inih (Debian: no line numbers in the handler, 200-byte
 * lines) splits "key = value"; our reader in front of it counts lines, refuses
 * long lines instead of letting inih cut them in two, strips comments, and takes
 * section headers itself so that empty sections and their line numbers are seen.
 * inih calls the handler right after the reader returns a line, so p->line is
 * always the line being handled. */
#include "conf/internal.h"

#include <ini.h>
#include <stdio.h>
#include <string.h>

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* '#' and ';' start a comment at the start of a line or after whitespace, so
 * "pass#word" stays a value and "5s # per attempt" loses its comment. */
static void strip_comment(char *s)
{
    for (char *q = s; *q; q++) {
        if ((*q == '#' || *q == ';') && (q == s || blank(q[-1]))) {
            *q = '\0';
            return;
        }
    }
}

static enum section_kind section_kind(const char *type)
{
    if (strcmp(type, "global") == 0)
        return SEC_GLOBAL;
    if (strcmp(type, "resolver") == 0)
        return SEC_RESOLVER;
    if (strcmp(type, "dialer") == 0)
        return SEC_DIALER;
    if (strcmp(type, "app") == 0)
        return SEC_APP;
    return SEC_NONE;
}

static int find_section(const struct parser *p, enum section_kind kind, const char *name)
{
    const struct conf *c = p->c;

    for (int i = 0; kind == SEC_DIALER && i < c->n_dialers; i++)
        if (strcmp(c->dialers[i].name, name) == 0)
            return c->dialers[i].line;
    for (int i = 0; kind == SEC_RESOLVER && i < c->n_resolvers; i++)
        if (strcmp(c->resolvers[i].name, name) == 0)
            return c->resolvers[i].line;
    for (int i = 0; kind == SEC_APP && i < c->n_apps; i++)
        if (strcmp(c->apps[i].name, name) == 0)
            return c->apps[i].line;
    return 0;
}

static void global_header(struct parser *p, const char *name)
{
    if (*name) {
        conf_report(p, p->line, "section [global] takes no name");
        return;
    }
    if (p->global_line) {
        conf_report(p, p->line, "duplicate section [global] (first defined at line %d)",
                    p->global_line);
        return;
    }
    conf_open_section(p, SEC_GLOBAL, "", p->line);
}

static void named_header(struct parser *p, enum section_kind kind, const char *type,
                         const char *name)
{
    char why[WHY_MAX];
    int first;

    if (*name == '\0') {
        conf_report(p, p->line, "section [%s] needs a name: [%s NAME]", type, type);
        return;
    }
    if (conf_check_name(name, why) < 0) {
        conf_report(p, p->line, "bad %s name '%s': %s", type, name, why);
        return;
    }
    first = find_section(p, kind, name);
    if (first) {
        conf_report(p, p->line, "duplicate section [%s %s] (first defined at line %d)", type, name,
                    first);
        return;
    }
    conf_open_section(p, kind, name, p->line);
}

/* S: a stripped line starting with '['. Until a valid header opens a section,
 * keys are skipped: they would only draw follow-on errors. */
static void header(struct parser *p, char *s)
{
    char *end = strchr(s, ']'), *type, *name;
    enum section_kind kind;

    conf_close_section(p);
    p->kind = SEC_SKIP;
    if (!end) {
        conf_report(p, p->line, "syntax error: missing ']' in section header");
        return;
    }
    if (end[1] != '\0') {
        conf_report(p, p->line, "syntax error: unexpected text after ']'");
        return;
    }
    *end = '\0';
    type = conf_trim(s + 1);
    name = type + strcspn(type, " \t");
    if (*name)
        *name++ = '\0';
    name = conf_trim(name);
    if (*type == '\0') {
        conf_report(p, p->line, "syntax error: empty section header '[]'");
        return;
    }
    kind = section_kind(type);
    if (kind == SEC_NONE)
        conf_report(p, p->line,
                    "unknown section type '%s' (expected global, resolver, dialer or app)", type);
    else if (kind == SEC_GLOBAL)
        global_header(p, name);
    else
        named_header(p, kind, type, name);
}

/* A "key = value" line (inih also takes "key: value"). True: hand it to inih. */
static bool key_line(struct parser *p, char *s)
{
    size_t n = strcspn(s, "=:");
    char name[CONF_LINE_MAX + 1];

    if (s[n] == '\0') {
        conf_report(p, p->line, "syntax error: expected '[section]' or 'key = value'");
        return false;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    if (*conf_trim(name) == '\0') {
        conf_report(p, p->line, "syntax error: missing key name before '%c'", s[n]);
        return false;
    }
    if (p->kind == SEC_NONE) {
        conf_report(p, p->line, "key '%s' outside any section", conf_trim(name));
        return false;
    }
    return p->kind != SEC_SKIP;
}

/* The next raw line, without its line ending; NULL at the end of the text. */
static const char *next_line(struct parser *p, size_t *n)
{
    const char *start = p->text + p->pos, *nl;

    if (p->pos >= p->len)
        return NULL;
    nl = memchr(start, '\n', p->len - p->pos);
    *n = nl ? (size_t)(nl - start) : p->len - p->pos;
    p->pos += *n + (nl ? 1 : 0);
    p->line++;
    if (*n && start[*n - 1] == '\r')
        (*n)--;
    if (p->line == 1 && *n >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) {
        start += 3;
        *n -= 3;
    }
    return start;
}

/* What inih sees: the cleaned line when it is "key = value", else "". */
static char *reader(char *str, int num, void *stream)
{
    struct parser *p = stream;
    size_t n, max = num - 1 < CONF_LINE_MAX ? (size_t)num - 1 : CONF_LINE_MAX;
    const char *raw = next_line(p, &n);
    char *s;

    if (!raw)
        return NULL;
    str[0] = '\0';
    if (n > max) {
        conf_report(p, p->line, "line too long (max %zu characters)", max);
        return str;
    }
    if (memchr(raw, '\0', n)) {
        conf_report(p, p->line, "syntax error: NUL byte in line");
        return str;
    }
    memcpy(str, raw, n);
    str[n] = '\0';
    strip_comment(str);
    s = conf_trim(str);
    if (*s == '[') {
        header(p, s);
        str[0] = '\0';
    } else if (*s && key_line(p, s)) {
        memmove(str, s, strlen(s) + 1); /* no leading blanks: never a continuation */
    } else {
        str[0] = '\0';
    }
    return str;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    struct parser *p = user;

    (void)section; /* ours, from header(): inih cuts long names */
    conf_set_key(p, name, value);
    return 1;
}

void conf_parse_text(struct parser *p)
{
    int bad = ini_parse_stream(reader, p, on_pair, p);

    /* The reader catches every syntax error inih knows of; this is a backstop. */
    if (bad > 0 && !conf_reported_at(p, bad))
        conf_report(p, bad, "syntax error");
    else if (bad < 0)
        conf_report(p, 0, "out of memory");
    conf_close_section(p);
    p->kind = SEC_NONE;
}

/* ---- the fallback scan of a broken file ---- */

struct span {
    const char *s;
    size_t n;
};

static struct span trim_span(struct span t)
{
    while (t.n && blank(*t.s)) {
        t.s++;
        t.n--;
    }
    while (t.n && blank(t.s[t.n - 1]))
        t.n--;
    return t;
}

static bool span_is(struct span t, const char *word)
{
    return t.n == strlen(word) && memcmp(t.s, word, t.n) == 0;
}

/* The line as the reader cleans it: no CR, no BOM, no comment, no outer blanks. */
static struct span clean_line(const char *s, size_t n, bool first)
{
    if (n && s[n - 1] == '\r')
        n--;
    if (first && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        s += 3;
        n -= 3;
    }
    for (size_t i = 0; i < n; i++)
        if ((s[i] == '#' || s[i] == ';') && (i == 0 || blank(s[i - 1]))) {
            n = i;
            break;
        }
    return trim_span((struct span){s, n});
}

/* "[global]", blanks allowed inside the brackets as header() allows them. */
static bool global_header_line(struct span t)
{
    if (t.n < 2 || t.s[t.n - 1] != ']' || memchr(t.s, ']', t.n - 1))
        return false;
    return span_is(trim_span((struct span){t.s + 1, t.n - 2}), "global");
}

bool conf_scan_pass_through(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    bool in_global = false, seen = false, other = false;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        struct span t, key, val;
        size_t k;

        if (!eol)
            eol = end;
        t = clean_line(p, (size_t)(eol - p), p == text);
        p = eol + 1;
        if (t.n && *t.s == '[') {
            in_global = global_header_line(t);
            continue;
        }
        for (k = 0; k < t.n && t.s[k] != '=' && t.s[k] != ':'; k++)
            ;
        if (!in_global || k == t.n)
            continue;
        key = trim_span((struct span){t.s, k});
        val = trim_span((struct span){t.s + k + 1, t.n - k - 1});
        if (!span_is(key, "on_config_error"))
            continue;
        seen = true;
        other |= !span_is(val, "pass_through");
    }
    return seen && !other;
}
