/* import: a proxychains-ng or torsocks configuration file made into dialshim.ini
 * text (dialshim(1) import). tools/import.c reads the file, tells the formats
 * apart and holds the line helpers; tools/import_proxychains.c and
 * tools/import_torsocks.c know one format each.
 *
 * Promise: the input is anyone's text of any length and content: nothing is read
 * past LEN, every line and token is bounded (a longer line is skipped with a
 * warning), nothing is resolved or opened. Whatever the input, the INI written
 * loads with conf_load (tests/fuzz/fuzz_import.c checks it) and every line of it
 * is shorter than 200 bytes. An input line with no exact equivalent gets a "; "
 * comment in the output saying what was chosen instead; a line not understood
 * gets one too and a warning "NAME:LINE: warning: ..." on the error stream.
 * Credentials from the input appear only as username/password values, never in
 * a comment or warning. The functions keep no state between calls.
 */
#ifndef DIALSHIM_IMPORT_H
#define DIALSHIM_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IMP_LINE_MAX  512 /* an input line, longer ones are skipped */
#define IMP_TOKENS    8   /* tokens of a line looked at */
#define IMP_VALUE_MAX 180 /* a value written, so that "password = VALUE" fits a line */
#define IMP_NOTES_MAX 8192

enum import_kind { IMPORT_UNKNOWN, IMPORT_PROXYCHAINS, IMPORT_TORSOCKS };

/* One import in progress: where text goes, and the comments about input lines
 * that have no place of their own in the output (written near the top). */
struct imp {
    const char *name;
    FILE *out, *err;
    int warnings;
    char notes[IMP_NOTES_MAX];
    size_t n_notes;
};

/* The whole job: LEN bytes of TEXT read as NAME. Returns 0, or 2 when the text is
 * in neither format (the reason on ERR). */
int import_text(const char *name, const char *text, size_t len, FILE *out, FILE *err);

/* Which format TEXT is in, by the first line that only one of them has. */
enum import_kind import_detect(const char *text, size_t len);

/* The next line of [*P, END) into BUF (CAP bytes, NUL-terminated, without the
 * newline; a NUL byte ends it early); *P moves past it. False at the end. *LONG
 * tells a line that did not fit (BUF then holds its start). */
bool imp_next_line(const char **p, const char *end, char *buf, size_t cap, bool *lng);

/* Split LINE in place at blanks and '=' (both formats allow "key value" and
 * "key = value"), stopping at a '#' that starts a token. Up to MAX tokens go to
 * TOK; returns how many there were (may exceed MAX). */
int imp_split(char *line, char **tok, int max);

/* Each line of the LEN bytes at TEXT: one longer than IMP_LINE_MAX - 1 is warned
 * about and left out, a blank one skipped, the others cut into tokens (at most
 * IMP_TOKENS) and given to LINE with the line's number; when LINE answers false,
 * a warning says the line was not understood. */
void imp_each_line(struct imp *im, const char *text, size_t len,
                   bool (*line)(struct imp *im, void *ctx, int no, char **t, int n), void *ctx);

/* The prefix length of a dotted IPv4 netmask (255.255.0.0 -> 16); -1 when it is
 * not one or its ones are not contiguous. */
int imp_mask_prefix(const char *mask);

/* Can V be written as an INI value: 1 to IMP_VALUE_MAX printable ASCII bytes, no
 * blank, not starting with a comment character. */
bool imp_value_ok(const char *v);

/* HOST (an IPv4 or IPv6 literal) and PORT (1-65535, digits) as a server value,
 * "192.0.2.1:1080" or "[2001:db8::1]:1080"; false for a name or a bad port. */
bool imp_server(const char *host, const char *port, char *out, size_t cap);

/* A comment in the output, "; " lines of at most about 100 bytes. */
void imp_comment(struct imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A comment about input line LINE kept for the notes block. */
void imp_note(struct imp *im, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The same, and a warning NAME:LINE on the error stream. */
void imp_warn(struct imp *im, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The first token of an input line, safe to quote in a comment (escaped, cut). */
const char *imp_word(const char *tok, char *buf, size_t cap);

/* The notes block: every note as "; " lines. */
void imp_put_notes(struct imp *im);

/* The formats (they write the whole INI on im->out). */
void import_proxychains(struct imp *im, const char *text, size_t len);
void import_torsocks(struct imp *im, const char *text, size_t len);

#endif
