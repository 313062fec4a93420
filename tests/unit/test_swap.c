/* dial_swap: the scratch socket put in the place of the program's descriptor is
 * closed on every path, the failed ones included (a leak per failed hand-over
 * would exhaust a long-running program's descriptors). The failures come from
 * the sys table: a dup3 that fails, and a descriptor that is not open. */
#include "common/dialer/dialer.h"
#include "common/sys.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int failing_dup3(int oldfd, int newfd, int flags)
{
    (void)oldfd, (void)newfd, (void)flags;
    errno = EMFILE;
    return -1;
}

static bool is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

START_TEST(scratch_closed_when_dup3_fails)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), scratch = socket(AF_INET, SOCK_STREAM, 0);

    sys.dup3 = failing_dup3;
    ck_assert_int_eq(dial_swap(fd, scratch, AF_INET), EMFILE);
    sys.dup3 = dup3;
    ck_assert(is_open(fd));       /* the program's socket stays */
    ck_assert(!is_open(scratch)); /* ours is gone */
    close(fd);
}
END_TEST

START_TEST(scratch_closed_when_fd_is_not_open)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), scratch = socket(AF_INET, SOCK_STREAM, 0);

    close(fd);
    ck_assert_int_eq(dial_swap(fd, scratch, AF_INET), EBADF);
    ck_assert(!is_open(scratch));
}
END_TEST

START_TEST(swap_takes_the_number)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), scratch = socket(AF_INET6, SOCK_STREAM, 0);
    int domain = 0;
    socklen_t len = sizeof(domain);

    ck_assert_int_eq(dial_swap(fd, scratch, AF_INET), 0);
    ck_assert(!is_open(scratch));
    ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len), 0);
    ck_assert_int_eq(domain, AF_INET6);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("swap");
    TCase *t = tcase_create("swap");
    SRunner *r;
    int failed;

    sys_init_default();
    tcase_add_test(t, scratch_closed_when_dup3_fails);
    tcase_add_test(t, scratch_closed_when_fd_is_not_open);
    tcase_add_test(t, swap_takes_the_number);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
