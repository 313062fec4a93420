/* tool: what the verbs living in their own files (tools/env.c, tools/import*.c)
 * share with tools/dialshim.c, which parses the command line and dispatches.
 *
 * Promise: every verb writes its result on stdout and its problems on stderr,
 * and returns the exit status (0, or EXIT_USAGE for a usage or configuration
 * error), never calling exit().
 */
#ifndef DIALSHIM_TOOL_H
#define DIALSHIM_TOOL_H

#include "conf/conf.h"

#include <stdbool.h>
#include <stddef.h>

#define EXIT_USAGE 2

struct opts {
    const char *config, *app, *level, *program;
    bool dial, off;
    int supervise; /* run: --supervise 1, --no-supervise -1 */
};

/* tools/dialshim.c */
extern const char usage_text[]; /* the usage lines, printed on a usage error */
int find_config(const struct opts *o, char *out, size_t cap);
struct conf *load_checked(const char *path);

/* tools/dialshim_run.c: `run` (the default verb), and where the library is. */
int shim_path(char *out, size_t cap);
int cmd_run(const struct opts *o, char **argv);

/* tools/dialshim_explain.c: `explain [--dial] [tcp|udp] HOST PORT`. */
int cmd_explain(const struct opts *o, int argc, char **argv);

/* tools/env.c: `env` (export lines for eval, or with --off the lines that undo
 * them) and `shell` ($SHELL under the shim, the prompt marked). */
int cmd_env(const struct opts *o, int argc, char **argv);
int cmd_shell(const struct opts *o, int argc, char **argv);

/* tools/import.c: `import FILE`. */
int cmd_import(int argc, char **argv);

#endif
