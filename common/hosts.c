#include "common/hosts.h"

#include "common/dnsanswer.h"
#include "common/nobss.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define HOSTS_LINE_MAX 1024

/* One hosts line "ADDR NAME [ALIAS...] [# comment]": adds ADDR when NAME matches. */
static void hosts_line(char *line, const char *name, int family, struct dns_answer *out)
{
    char *save, *tok, *first = NULL;
    uint8_t bytes[16];
    int fam;

    line[strcspn(line, "#")] = '\0';
    char *addr = strtok_r(line, " \t\r\n", &save);
    if (!addr)
        return;
    if (inet_pton(AF_INET, addr, bytes) == 1)
        fam = AF_INET;
    else if (inet_pton(AF_INET6, addr, bytes) == 1)
        fam = AF_INET6;
    else
        return;
    if (family != AF_UNSPEC && family != fam)
        return;
    while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
        if (!first)
            first = tok;
        if (dns_name_eq(tok, name)) {
            if (out->n == 0)
                dns_answer_set_canon(out, first);
            dns_answer_add(out, fam, bytes, 0, 0);
            return;
        }
    }
}

/* The hosts file, kept in memory: read again only when it changed (size, mtime,
 * inode), and stat'ed at most once a second, so a cache hit costs no file I/O. */
#define HOSTS_FILE_MAX (1 << 20)

static struct {
    char path[CONF_PATH_MAX];
    char *text; /* NUL-terminated; NULL: no such file */
    struct stat st;
    int64_t checked_ms;
} hosts_mem NOBSS;
static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t coarse_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void hosts_reload(const char *path)
{
    struct stat st;
    FILE *f;
    char *text;
    size_t n;

    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > HOSTS_FILE_MAX) {
        free(hosts_mem.text);
        hosts_mem.text = NULL;
        memset(&hosts_mem.st, 0, sizeof(hosts_mem.st));
        return;
    }
    if (hosts_mem.text && !strcmp(hosts_mem.path, path) && st.st_ino == hosts_mem.st.st_ino &&
        st.st_size == hosts_mem.st.st_size && st.st_mtim.tv_sec == hosts_mem.st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == hosts_mem.st.st_mtim.tv_nsec)
        return;
    f = fopen(path, "re");
    text = f ? malloc(st.st_size + 1) : NULL;
    n = text ? fread(text, 1, st.st_size, f) : 0;
    if (f)
        fclose(f);
    if (text)
        text[n] = '\0';
    free(hosts_mem.text);
    hosts_mem.text = text;
    hosts_mem.st = st;
}

/* True when PATH maps NAME to an address of FAMILY. A missing file maps nothing;
 * an overlong line is skipped whole rather than misread in pieces. */
bool hosts_answer(const char *path, const char *name, int family, struct dns_answer *out)
{
    char line[HOSTS_LINE_MAX];
    int64_t now = coarse_ms();

    pthread_mutex_lock(&hosts_lock);
    if (strcmp(hosts_mem.path, path) != 0 || now - hosts_mem.checked_ms >= 1000 ||
        now < hosts_mem.checked_ms) {
        hosts_reload(path);
        snprintf(hosts_mem.path, sizeof(hosts_mem.path), "%s", path);
        hosts_mem.checked_ms = now;
    }
    for (const char *p = hosts_mem.text; p && *p;) {
        size_t len = strcspn(p, "\n");
        if (len < sizeof(line)) {
            memcpy(line, p, len);
            line[len] = '\0';
            hosts_line(line, name, family, out);
        }
        p += len + (p[len] == '\n');
    }
    pthread_mutex_unlock(&hosts_lock);
    return out->n > 0;
}

void hosts_atfork_prepare(void)
{
    pthread_mutex_lock(&hosts_lock);
}

void hosts_atfork_parent(void)
{
    pthread_mutex_unlock(&hosts_lock);
}

/* A copy of the initializer: only async-signal-safe calls are sure to work in
 * the child of a threaded process. */
void hosts_atfork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&hosts_lock, &fresh, sizeof(hosts_lock));
}
