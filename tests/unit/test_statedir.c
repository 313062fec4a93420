/* statedir: the per-user state directory (common/statedir.h): where it is, that it
 * is created mode 700, that files are replaced whole and read back, and that a
 * directory someone else may write, or reached through another user's symbolic
 * link, is not used. */
#include "common/statedir.h"

#include "common/sys.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];
static struct conf *c;

static struct conf *load(const char *text)
{
    struct conf *k = conf_load_string("t.ini", text, NULL, NULL);

    ck_assert_ptr_nonnull(k);
    return k;
}

static void setup(void)
{
    char text[256];

    sys_init_default();
    snprintf(base, sizeof(base), "/tmp/statedir.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    snprintf(text, sizeof(text), "[global]\nstate_dir = %s/d\n", base);
    c = load(text);
}

static void teardown(void)
{
    char cmd[128];

    conf_free(c);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    ck_assert_int_eq(system(cmd), 0);
}

/* The number of entries in DIR but . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

START_TEST(write_read)
{
    char buf[64], path[128];
    struct stat st;

    ck_assert_int_eq(statedir_read(c, "learn", buf, sizeof(buf)), -ENOENT);
    ck_assert_int_eq(statedir_write(c, "learn", "one\n", 4), 0);
    snprintf(path, sizeof(path), "%s/d", base);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(statedir_write(c, "learn", "second\n", 7), 0);
    ck_assert_int_eq(statedir_read(c, "learn", buf, sizeof(buf)), 7);
    ck_assert_str_eq(buf, "second\n");
    snprintf(path, sizeof(path), "%s/d/learn", base);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    snprintf(path, sizeof(path), "%s/d", base);
    ck_assert_int_eq(entries(path), 1);                     /* no temporary file left */
    ck_assert_int_eq(statedir_read(c, "learn", buf, 4), 3); /* cut, NUL-terminated */
    ck_assert_str_eq(buf, "sec");
}
END_TEST

START_TEST(others_may_write)
{
    char path[128], buf[16];

    snprintf(path, sizeof(path), "%s/d", base);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    ck_assert_int_eq(chmod(path, 0777), 0);
    ck_assert_int_eq(statedir_write(c, "learn", "x", 1), EPERM);
    ck_assert_int_eq(statedir_read(c, "learn", buf, sizeof(buf)), -EPERM);
    ck_assert_int_eq(entries(path), 0);
}
END_TEST

START_TEST(foreign_symlink)
{
    char path[128], target[128];

    /* A link owned by someone else (not root, not us) to a directory of ours. */
    snprintf(target, sizeof(target), "%s/real", base);
    snprintf(path, sizeof(path), "%s/d", base);
    ck_assert_int_eq(mkdir(target, 0700), 0);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(lchown(path, 65534, 65534), 0);
    ck_assert_int_eq(statedir_write(c, "learn", "x", 1), EPERM);
    ck_assert_int_eq(entries(target), 0);
    /* Our own link is followed. */
    ck_assert_int_eq(lchown(path, geteuid(), getegid()), 0);
    ck_assert_int_eq(statedir_write(c, "learn", "x", 1), 0);
    ck_assert_int_eq(entries(target), 1);
}
END_TEST

START_TEST(where)
{
    char out[256];
    struct conf *k;

    ck_assert_int_eq(statedir_path(c, out, sizeof(out), NULL), 0);
    ck_assert_str_eq(out + strlen(base), "/d");
    k = load("[global]\nstate_dir =\n");
    ck_assert_int_eq(statedir_path(k, out, sizeof(out), NULL), ENOENT);
    ck_assert_int_eq(statedir_write(k, "learn", "x", 1), ENOENT);
    conf_free(k);
    k = load("[global]\n");
    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    ck_assert_int_eq(statedir_path(k, out, sizeof(out), NULL), 0);
    ck_assert_str_eq(out, "/run/user/4242/dialshim");
    unsetenv("XDG_RUNTIME_DIR");
    ck_assert_int_eq(statedir_path(k, out, sizeof(out), NULL), ENOENT);
    conf_free(k);
    ck_assert_ptr_null(conf_load_string("t.ini", "[global]\nstate_dir = rel/dir\n", NULL, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("statedir");
    TCase *t = tcase_create("statedir");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, write_read);
    tcase_add_test(t, others_may_write);
    tcase_add_test(t, foreign_symlink);
    tcase_add_test(t, where);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
