/* fakeshare: the fake-address table shared under state_dir, through the fakeip
 * module as the library uses it: a second load (another process) sees the
 * first's names and adds its own; a full table refuses in every process and no
 * address changes its name; a file of another layout is not read; an unusable
 * state_dir leaves each process its own table. */
#include "common/fakeip.h"
#include "common/fakeip_int.h"
#include "common/fakeshare.h"
#include "common/fakeslot.h"
#include "common/sys.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char base[64];
static struct conf *c;

static void setup(void)
{
    char text[256];

    sys_init_default();
    snprintf(base, sizeof(base), "/tmp/fakeshare.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    /* six IPv4 addresses: 192.0.2.1 .. 192.0.2.6 */
    snprintf(text, sizeof(text), "[global]\nstate_dir = %s/d\nfake_ip_range = 192.0.2.0/29\n",
             base);
    c = conf_load_string("t.ini", text, NULL, NULL);
    ck_assert_ptr_nonnull(c);
}

static void teardown(void)
{
    char cmd[128];

    fakeip_free();
    conf_free(c);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    ck_assert_int_eq(system(cmd), 0);
}

/* What the library does at load. */
static void load(void)
{
    ck_assert_int_eq(fakeip_init(c), 0);
    fakeip_share(c);
}

static const char *fake(const char *name, char *buf)
{
    unsigned char a[4];
    int err = fakeip_for_name(name, AF_INET, a);

    if (err)
        return err == EAGAIN ? "EAGAIN" : "error";
    return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

static const char *name_of(const char *text, char *buf)
{
    unsigned char a[4];

    ck_assert_int_eq(inet_pton(AF_INET, text, a), 1);
    return fakeip_lookup_addr(AF_INET, a, buf, FAKEIP_NAME_MAX) ? buf : "-";
}

/* The table's file, from explain's line. */
static void table_path(char *out, size_t cap)
{
    char line[2048], *in, *end;

    fakeshare_describe(c, line, sizeof(line));
    in = strstr(line, " in ");
    ck_assert_ptr_nonnull(in);
    end = strstr(in, " (");
    ck_assert_ptr_nonnull(end);
    snprintf(out, cap, "%.*s", (int)(end - in - 4), in + 4);
}

START_TEST(another_process_sees_and_adds)
{
    char a[64], n[FAKEIP_NAME_MAX], path[1200];
    struct stat st;
    int status;

    load();
    ck_assert(fakeip_shared);
    ck_assert_str_eq(fake("a.example", a), "192.0.2.1");
    table_path(path, sizeof(path));
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    pid_t pid = fork();
    if (pid == 0) {
        /* a process of its own: it loads, maps the file, and knows a.example */
        load();
        bool ok = fakeip_shared && !strcmp(name_of("192.0.2.1", n), "a.example") &&
                  !strcmp(fake("a.example", a), "192.0.2.1") &&
                  !strcmp(fake("b.example", a), "192.0.2.2");
        _exit(ok ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(name_of("192.0.2.2", n), "b.example");
    ck_assert_str_eq(fake("b.example", a), "192.0.2.2");
    ck_assert_str_eq(fake("c.example", a), "192.0.2.3");
}
END_TEST

/* No address is reassigned while the file lives: with every address handed out,
 * a new name is refused in every process, and the old names keep theirs. */
START_TEST(full_table_refuses_everywhere)
{
    char a[64], n[FAKEIP_NAME_MAX], name[32];
    int status;

    load();
    for (int i = 1; i <= 6; i++) {
        snprintf(name, sizeof(name), "n%d.example", i);
        fake(name, a);
    }
    ck_assert_str_eq(fake("late.example", a), "EAGAIN");
    pid_t pid = fork();
    if (pid == 0) {
        load();
        bool ok = !strcmp(fake("other.example", a), "EAGAIN") &&
                  !strcmp(name_of("192.0.2.1", n), "n1.example") &&
                  !strcmp(fake("n6.example", a), "192.0.2.6");
        _exit(ok ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_str_eq(name_of("192.0.2.1", n), "n1.example");
    /* pins do not matter: the address stands for its name until the file goes */
    unsigned char x[4] = {192, 0, 2, 1};
    ck_assert(fakeip_pin_addr(AF_INET, x));
    fakeip_unpin_addr(AF_INET, x);
    ck_assert_str_eq(fake("late.example", a), "EAGAIN");
}
END_TEST

/* A file of another version (or configuration) under the name: never read, never
 * written; the process keeps its own table. */
START_TEST(other_layout_is_not_read)
{
    char a[64], n[FAKEIP_NAME_MAX], path[1200], before[64], after[64];
    uint32_t v = FAKESLOT_VERSION + 1;
    int fd;

    load();
    ck_assert_str_eq(fake("a.example", a), "192.0.2.1");
    ck_assert_str_eq(fake("b.example", a), "192.0.2.2");
    table_path(path, sizeof(path));
    fakeip_free();
    fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, &v, 4, 16), 4); /* struct fakeslot_head.version */
    ck_assert_int_eq(pread(fd, before, sizeof(before), 0), (ssize_t)sizeof(before));
    load();
    ck_assert(!fakeip_shared);
    ck_assert_str_eq(name_of("192.0.2.2", n), "-");      /* b.example is not read */
    ck_assert_str_eq(fake("c.example", a), "192.0.2.1"); /* the process's own */
    ck_assert_int_eq(pread(fd, after, sizeof(after), 0), (ssize_t)sizeof(after));
    ck_assert_mem_eq(before, after, sizeof(before));
    close(fd);
}
END_TEST

/* A new name and a reverse lookup make no system call at all: a child under
 * seccomp's strict mode (only read, write, exit and sigreturn; anything else
 * kills it) adds a name and reads another process's back. (The former journal
 * took an fcntl lock, an fstat and a pwrite here: the child was killed.) */
START_TEST(no_system_call_per_name)
{
    char a[64], n[FAKEIP_NAME_MAX];
    int status;

    load();
    ck_assert_str_eq(fake("parent.example", a), "192.0.2.1");
    pid_t pid = fork();
    if (pid == 0) {
        /* touch the stack the lookups will use before the filter */
        volatile char warm[16384];
        for (size_t i = 0; i < sizeof(warm); i += 4096)
            warm[i] = 0;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0)
            syscall(SYS_exit, 3);
        unsigned char x[4], p[4] = {192, 0, 2, 1};
        bool ok = fakeip_for_name_at("child.example", AF_INET, false, 1, x) == 0 && x[3] == 2 &&
                  fakeip_lookup_addr_at(AF_INET, p, 1, n, sizeof(n)) &&
                  !strcmp(n, "parent.example");
        syscall(SYS_exit, ok ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %s %d",
                  WIFSIGNALED(status) ? "killed by signal" : "exit",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    ck_assert_str_eq(name_of("192.0.2.2", n), "child.example");
}
END_TEST

START_TEST(unusable_state_dir_keeps_own_table)
{
    char a[64], path[128];

    snprintf(path, sizeof(path), "%s/d", base);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    ck_assert_int_eq(chmod(path, 0777), 0); /* others may write: not used */
    load();
    ck_assert(!fakeip_shared);
    ck_assert_str_eq(fake("a.example", a), "192.0.2.1");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fakeshare");
    TCase *tc = tcase_create("shared");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, another_process_sees_and_adds);
    tcase_add_test(tc, full_table_refuses_everywhere);
    tcase_add_test(tc, other_layout_is_not_read);
#if !defined(__SANITIZE_THREAD__) && !defined(__SANITIZE_ADDRESS__)
    /* A sanitizer's runtime makes system calls of its own in the child (shadow
     * memory, its fork handling), which strict mode kills: only plain builds. */
    tcase_add_test(tc, no_system_call_per_name);
#else
    (void)no_system_call_per_name;
#endif
    tcase_add_test(tc, unusable_state_dir_keeps_own_table);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
