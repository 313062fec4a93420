/* Process start: spawn a program bare and under a preloaded library, the
 * variants interleaved one by one (machines here drift; a block of bare runs
 * followed by a block of shim runs measures the drift as much as the shim).
 * Usage: startbench N PROGRAM LIBRARY [LIBRARY2 [LIBRARY3 [LIBRARY4]]], a LIBRARY written
 * NAME=VALUE@PATH running with NAME=VALUE in its environment.
 * Prints, per variant, the median wall time from posix_spawn to waitpid in
 * microseconds, and the median of the per-iteration ratios against bare; then
 * the same for the CPU time the child used (user + system from wait4's rusage,
 * which Linux takes from the scheduler's exact runtime): on a loaded machine the
 * wall time mostly measures the wait for a CPU, the child's CPU time does not.
 * Also the median of the child's page faults (ru_minflt + ru_majflt): on virtual
 * machines a fault costs as much as ten system calls, and the count, unlike the
 * times, hardly moves with the load of the machine. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* environ with LD_PRELOAD replaced by lib (or removed when lib is NULL); a lib
 * written NAME=VALUE@PATH also sets NAME=VALUE for that variant (replacing it). */
static char **env_with(const char *lib)
{
    int n = 0;
    while (environ[n])
        n++;
    char **e = calloc(n + 3, sizeof *e);
    int k = 0;
    const char *at = lib ? strchr(lib, '@') : NULL;
    size_t nl = 0;
    if (at) {
        char *set = strndup(lib, at - lib);
        nl = strcspn(set, "=") + 1;
        e[k++] = set;
        lib = at + 1;
    }
    for (int i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) && !(at && !strncmp(environ[i], e[0], nl)))
            e[k++] = environ[i];
    if (lib) {
        char *s = malloc(strlen(lib) + 12);
        sprintf(s, "LD_PRELOAD=%s", lib);
        e[k++] = s;
    }
    return e;
}

static double tv_us(struct timeval tv)
{
    return tv.tv_sec * 1e6 + tv.tv_usec;
}

/* Wall time; *cpu: the child's user + system time, *faults: its page faults. */
static double spawn_once(char *prog, char **env, double *cpu, double *faults)
{
    char *argv[] = {prog, NULL};
    struct rusage ru;
    pid_t pid;
    int st;
    double t0 = now_us();
    if (posix_spawn(&pid, prog, NULL, NULL, argv, env)) {
        perror("posix_spawn");
        exit(1);
    }
    if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
        fprintf(stderr, "startbench: %s failed\n", prog);
        exit(1);
    }
    *cpu = tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
    *faults = (double)(ru.ru_minflt + ru.ru_majflt);
    return now_us() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: startbench N PROGRAM LIBRARY [LIBRARY2...] (at most 4)\n");
        return 2;
    }
    int n = atoi(argv[1]), nv = argc - 2; /* bare + libraries */
    if (nv > 5) {
        fprintf(stderr, "startbench: at most 4 libraries\n");
        return 2;
    }
    char **env[5] = {env_with(NULL)};
    for (int v = 1; v < nv; v++)
        env[v] = env_with(argv[2 + v]);
    double *t[5], *r[5], *c[5], *cr[5], *pf[5], cpu, faults;
    for (int v = 0; v < nv; v++) {
        t[v] = calloc(n, sizeof(double));
        r[v] = calloc(n, sizeof(double));
        c[v] = calloc(n, sizeof(double));
        cr[v] = calloc(n, sizeof(double));
        pf[v] = calloc(n, sizeof(double));
    }
    for (int i = 0; i < 20; i++) /* warm the page cache and the CPU */
        for (int v = 0; v < nv; v++)
            spawn_once(argv[2], env[v], &cpu, &faults);
    srand(16);
    for (int i = 0; i < n; i++) {
        /* a fresh random order each round: with a rotation each variant always
         * ran right after the same neighbour, and two copies of one library
         * differed by up to 0.011 in the CPU ratio (5 runs of 600); shuffled,
         * by 0.003 */
        int order[5];
        for (int j = 0; j < nv; j++)
            order[j] = j;
        for (int j = nv - 1; j > 0; j--) {
            int k = rand() % (j + 1), x = order[j];
            order[j] = order[k];
            order[k] = x;
        }
        for (int j = 0; j < nv; j++) {
            int v = order[j];
            t[v][i] = spawn_once(argv[2], env[v], &c[v][i], &pf[v][i]);
        }
        for (int v = 0; v < nv; v++) {
            r[v][i] = t[v][i] / t[0][i];
            cr[v][i] = c[0][i] > 0 ? c[v][i] / c[0][i] : 1;
        }
    }
    for (int v = 0; v < nv; v++)
        printf("variant=%d median_us=%.1f ratio=%.4f cpu_us=%.1f cpu_ratio=%.4f faults=%.0f\n", v,
               median(t[v], n), median(r[v], n), median(c[v], n), median(cr[v], n),
               median(pf[v], n));
    return 0;
}
