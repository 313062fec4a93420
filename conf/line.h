/* The one way the INI text is cut into lines: by the parser's reader
 * (conf/parse.c) and by the fallback scan of a broken file (the same reader); the
 * constructor's look for a path in a match line (common/state.c) cuts lines by
 * the same rules, from slash to slash.
 *
 * Promise: conf_next_line() gives each line of TEXT[0..LEN) in turn, counted from
 * 1, without its "\n" or "\r\n" and, on line 1, without a UTF-8 BOM (headers are
 * read before inih sees a line, so inih's own BOM skip would come too late); NULL
 * after the last. It never reads past LEN and calls no libc function: the
 * constructor runs it, where every first call of a libc function costs a lazy
 * symbol lookup (see common/state.c). */
#ifndef DIALSHIM_CONF_LINE_H
#define DIALSHIM_CONF_LINE_H

#include <stddef.h>

struct conf_lines {
    const char *text;
    size_t len, pos;
    int line; /* of the line returned last; 0 before the first */
};

static inline const char *conf_next_line(struct conf_lines *l, size_t *n)
{
    const char *start = l->text + l->pos;
    size_t rest = l->len - l->pos, i = 0;

    if (l->pos >= l->len)
        return NULL;
    while (i < rest && start[i] != '\n')
        i++;
    l->pos += i + (i < rest);
    l->line++;
    if (i && start[i - 1] == '\r')
        i--;
    if (l->line == 1 && i >= 3 && start[0] == '\xef' && start[1] == '\xbb' && start[2] == '\xbf') {
        start += 3;
        i -= 3;
    }
    *n = i;
    return start;
}

#endif
