/* dialshim: run a command through the shim, check a configuration, explain a
 * decision (dialshim(1)). */
#include "common/dialer/dialer.h"
#include "common/state.h"
#include "common/support.h"
#include "common/sys.h"
#include "tools/tool.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const char usage_text[] =
    "usage: dialshim [run] [-c FILE] [-p APP] [-l LEVEL] [--supervise | --no-supervise] [--]\n"
    "                COMMAND [ARG...]\n"
    "       dialshim check [-c FILE]\n"
    "       dialshim env [-c FILE] [-p APP] [-l LEVEL] | dialshim env --off\n"
    "       dialshim shell [-c FILE] [-p APP] [-l LEVEL] [--] [SHELL-ARG...]\n"
    "       dialshim import FILE\n"
    "       dialshim explain [-c FILE] [-p APP | -n PROGRAM] [--dial] [tcp|udp] HOST PORT\n"
    "       dialshim --version | --help\n";

/* --help: one line per verb and option; the manual is dialshim(1). */
static const char help_text[] =
    "\n"
    "  run          run COMMAND with the shim preloaded (the default verb)\n"
    "  check        validate the configuration: 'ok: N dialers, M apps' or FILE:LINE errors\n"
    "  explain      show the app, rule, dialer chain and addresses HOST PORT would get\n"
    "  env          print export lines for eval: this shell's later commands use the shim\n"
    "  shell        start $SHELL (else /bin/sh) under the shim, '(dialshim) ' before its prompt\n"
    "  import       print the INI equivalent of a proxychains.conf or torsocks.conf FILE\n"
    "  -c FILE      the configuration file (default: $DIALSHIM_CONFIG, the user's, /etc's)\n"
    "  -p APP       use [app APP] whatever the program (sets DIALSHIM_APP)\n"
    "  -l LEVEL     log level in COMMAND: error, warn, info, debug, trace (sets DIALSHIM_LOG)\n"
    "  -n PROGRAM   explain: match [app] sections as if run as PROGRAM (a name or a path)\n"
    "  --dial       explain: also dial HOST PORT (an address) and print the result\n"
    "  --off        env: print the lines that undo 'env' (only our library leaves LD_PRELOAD)\n"
    "  --supervise  run: COMMAND under the seccomp supervisor, whatever its kind\n"
    "  --no-supervise  run: never the supervisor (a static or Go COMMAND runs unproxied)\n"
    "  --version    print the version\n"
    "  --help       print this help\n"
    "Exit status: the command's; 2 for a usage or configuration error; 127 when COMMAND\n"
    "is not found. Manuals: dialshim(1), dialshim.ini(5).\n";

static void print_problem(void *ctx, const char *file, int line, const char *msg)
{
    int *errors = ctx;

    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    if (strncmp(msg, "warning: ", 9) != 0)
        (*errors)++;
}

/* The file the shim would read, per dialshim(1) FILES, made absolute. */
int find_config(const struct opts *o, char *out, size_t cap)
{
    char found[PATH_MAX];

    if (o->config)
        snprintf(found, sizeof(found), "%s", o->config);
    else if (!state_find_config(found, sizeof(found))) {
        fprintf(stderr, "dialshim: no configuration: give -c FILE, set DIALSHIM_CONFIG, or "
                        "create ~/.config/dialshim/dialshim.ini or /etc/dialshim.ini\n");
        return -1;
    }
    if (!realpath(found, out)) {
        fprintf(stderr, "%s:0: cannot open: %s\n", found, strerror(errno));
        return -1;
    }
    (void)cap;
    return 0;
}

/* Load and validate, printing every problem; NULL when there was any error. */
struct conf *load_checked(const char *path)
{
    int errors = 0;
    struct conf *c = conf_load(path, print_problem, &errors);

    if (c && support_check(c, print_problem, &errors) != 0) {
        conf_free(c);
        c = NULL;
    }
    return c;
}

static int cmd_check(const struct opts *o)
{
    char path[PATH_MAX];
    struct conf *c;
    int nd = 0;

    if (find_config(o, path, sizeof(path)) < 0)
        return EXIT_USAGE;
    c = load_checked(path);
    if (!c)
        return EXIT_USAGE;
    for (int i = 0; i < c->n_dialers; i++)
        nd += c->dialers[i].line > 0;
    printf("ok: %d dialers, %d apps\n", nd, c->n_apps);
    conf_free(c);
    return 0;
}

static bool valid_level(const char *l)
{
    static const char *ok[] = {"error", "warn", "info", "debug", "trace"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!strcmp(l, ok[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"version", no_argument, NULL, 'V'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"dial", no_argument, NULL, 'd'},
                                             {"off", no_argument, NULL, 'o'},
                                             {"supervise", no_argument, NULL, 'S'},
                                             {"no-supervise", no_argument, NULL, 'N'},
                                             {NULL, 0, NULL, 0}};
    struct opts o = {0};
    const char *verb = "run";
    int ch;

    sys_init_default();
    /* Options may come before and after the verb: scan until a non-option, and
     * again after a verb. "+" stops at the command so its own options are its own. */
    for (int round = 0; round < 2; round++) {
        while ((ch = getopt_long(argc, argv, "+c:p:l:n:h", longopts, NULL)) != -1) {
            switch (ch) {
            case 'c':
                o.config = optarg;
                break;
            case 'p':
                o.app = optarg;
                break;
            case 'l':
                if (!valid_level(optarg)) {
                    fprintf(stderr, "dialshim: -l %s: use error, warn, info, debug or trace\n",
                            optarg);
                    return EXIT_USAGE;
                }
                o.level = optarg;
                break;
            case 'n':
                o.program = optarg;
                break;
            case 'd':
                o.dial = true;
                break;
            case 'o':
                o.off = true;
                break;
            case 'S':
                o.supervise = 1;
                break;
            case 'N':
                o.supervise = -1;
                break;
            case 'V':
                printf("dialshim %s\n", DIALSHIM_VERSION);
                return 0;
            case 'h':
                fputs(usage_text, stdout);
                fputs(help_text, stdout);
                return 0;
            default:
                fputs(usage_text, stderr);
                return EXIT_USAGE;
            }
        }
        if (round == 0 && optind < argc && optind > 0 && strcmp(argv[optind - 1], "--") != 0 &&
            (!strcmp(argv[optind], "check") || !strcmp(argv[optind], "explain") ||
             !strcmp(argv[optind], "run") || !strcmp(argv[optind], "env") ||
             !strcmp(argv[optind], "shell") || !strcmp(argv[optind], "import"))) {
            verb = argv[optind];
            argc -= optind;
            argv += optind;
            optind = 0; /* glibc: start over, scanning from argv[1] */
            continue;
        }
        break;
    }
    if (!strcmp(verb, "check")) {
        if (optind != argc) {
            fputs(usage_text, stderr);
            return EXIT_USAGE;
        }
        return cmd_check(&o);
    }
    if (!strcmp(verb, "explain"))
        return cmd_explain(&o, argc - optind, argv + optind);
    if (!strcmp(verb, "env"))
        return cmd_env(&o, argc - optind, argv + optind);
    if (!strcmp(verb, "import"))
        return cmd_import(argc - optind, argv + optind);
    if (o.program || o.dial || o.off || (o.supervise && strcmp(verb, "run") != 0)) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(verb, "shell"))
        return cmd_shell(&o, argc - optind, argv + optind);
    return cmd_run(&o, argv + optind);
}
