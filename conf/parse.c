/* Reading the INI text with inih. What Debian 12's libinih (r55) does, measured:
 * - the handler gets no line number (INI_HANDLER_LINENO 0), but inih calls the
 *   reader once per line and the handler for that line before the next read: the
 *   reader counts lines (conf/line.h), so p->line is the handler's line;
 * - it reads on after an error (INI_STOP_ON_FIRST_ERROR 0) but returns only the
 *   first error's line: a line handed to inih that draws no handler call had no
 *   '=' or ':' before a comment, and is reported here at its line;
 * - blank lines, comments, "key = value" and "key: value" and the blanks around
 *   them are inih's. This build takes its options at run time (ini.h: extern
 *   ini_*): '#' is made an inline comment as ';' is (INI_INLINE_COMMENT_PREFIXES
 *   ";"), and an indented line a line of its own (INI_ALLOW_MULTILINE 1 would glue
 *   it to the previous value).
 * Done here, each forced by a limit of that build:
 * - section headers: inih tells the handler of a section only with its first key
 *   (INI_CALL_HANDLER_ON_NEW_SECTION 0, not settable at run time), cuts names to
 *   49 bytes (MAX_SECTION 50) and ignores text after ']': empty sections,
 *   duplicates and the header's line would go unseen;
 * - lines over 199 characters (dialshim.ini(5)): inih's buffer is INI_MAX_LINE 200
 *   bytes and it would read the rest of a longer line as a line of its own;
 * - NUL bytes: the reader hands over a C string, inih would stop at the NUL. */
#include "conf/internal.h"

#include <ctype.h>
#include <ini.h>
#include <string.h>

/* Once set, these stay: the copy of inih we link is ours alone
 * (shim/exports.map), and every parse wants the same. */
static void inih_options(void)
{
    static char inline_comment[] = ";#";

    if (ini_inline_comment_prefixes != inline_comment) {
        ini_inline_comment_prefixes = inline_comment;
        ini_allow_multiline = false;
    }
}

static bool space(char ch)
{
    return isspace((unsigned char)ch); /* inih's test, so both sides agree */
}

/* Where inih would see a comment start: ';' or '#' first on the line or after
 * a blank, so "pass#word" stays a value. Used on header lines, which inih never
 * sees. */
static char *comment_at(char *s)
{
    for (char *q = s; *q; q++)
        if ((*q == '#' || *q == ';') && (q == s || space(q[-1])))
            return q;
    return s + strlen(s);
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

/* S: a line starting with '['. Until a valid header opens a section, keys are
 * skipped: they would only draw follow-on errors. The fallback scan only learns
 * whether this is [global]. */
static void header(struct parser *p, char *s)
{
    char *end = comment_at(s), *type, *name;
    enum section_kind kind;

    while (end > s && space(end[-1]))
        end--;
    *end = '\0';
    end = strchr(s, ']');
    if (!p->scan)
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
    if (p->scan)
        p->kind = kind == SEC_GLOBAL && *name == '\0' ? SEC_GLOBAL : SEC_SKIP;
    else if (kind == SEC_NONE)
        conf_report(p, p->line,
                    "unknown section type '%s' (expected global, resolver, dialer or app)", type);
    else if (kind == SEC_GLOBAL)
        global_header(p, name);
    else
        named_header(p, kind, type, name);
}

/* The line inih was handed last drew no handler call. */
static void check_handed(struct parser *p)
{
    if (p->handed && p->handed != p->handled)
        conf_report(p, p->handed, "syntax error: expected '[section]' or 'key = value'");
    p->handed = 0;
}

/* What inih sees: the line, or "" for a header or a line refused here. */
static char *reader(char *str, int num, void *stream)
{
    struct parser *p = stream;
    size_t n, max = num - 1 < CONF_LINE_MAX ? (size_t)num - 1 : CONF_LINE_MAX;
    const char *raw;
    char *s = str;

    check_handed(p);
    raw = conf_next_line(&p->in, &n);
    if (!raw)
        return NULL;
    p->line = p->in.line;
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
    while (space(*s))
        s++;
    if (*s == '[') {
        header(p, s);
        str[0] = '\0';
    } else if (*s && *s != ';' && *s != '#') {
        p->handed = p->line;
        p->lead = *s;
    }
    return str;
}

/* conf_scan_pass_through: every on_config_error of [global] says pass_through. */
static void scan_pair(struct parser *p, const char *name, const char *value)
{
    if (p->kind != SEC_GLOBAL || strcmp(name, "on_config_error") != 0)
        return;
    p->pass_seen = true;
    p->pass_other |= strcmp(value, "pass_through") != 0;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    struct parser *p = user;

    (void)section; /* ours, from header(): inih cuts long names */
    p->handled = p->line;
    if (p->scan)
        scan_pair(p, name, value);
    else if (*name == '\0')
        conf_report(p, p->line, "syntax error: missing key name before '%c'", p->lead);
    else if (p->kind == SEC_NONE)
        conf_report(p, p->line, "key '%s' outside any section", name);
    else
        conf_set_key(p, name, value);
    return 1;
}

void conf_parse_text(struct parser *p)
{
    int bad;

    inih_options();
    bad = ini_parse_stream(reader, p, on_pair, p);
    /* Every line inih refuses is reported above; this is a backstop. */
    if (bad > 0 && !conf_reported_at(p, bad))
        conf_report(p, bad, "syntax error");
    else if (bad < 0)
        conf_report(p, 0, "out of memory");
    conf_close_section(p);
    p->kind = SEC_NONE;
}

/* The fallback for a broken file: the same reader and inih, reporting nothing. */
bool conf_scan_pass_through(const char *text, size_t len)
{
    struct parser p = {.in = {.text = text, .len = len}, .scan = true};

    inih_options();
    ini_parse_stream(reader, &p, on_pair, &p);
    return p.pass_seen && !p.pass_other;
}
