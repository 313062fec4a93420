/* fdtab: the per-descriptor words. fdtab_or/fdtab_and change bits in one atomic
 * step: threads marking the same descriptors at once never lose each other's bits
 * (a read-modify-write through fdtab_get/fdtab_set loses some on a multi-core
 * machine within a few thousand rounds). */
#include "common/fdtab.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define FDS     4096
#define ROUNDS  64
#define THREADS 4

static void *mark(void *arg)
{
    uint32_t bit = 1u << (8 + (uintptr_t)arg);

    for (int r = 0; r < ROUNDS; r++) {
        for (int fd = 0; fd < FDS; fd++)
            fdtab_or(fd, bit);
        for (int fd = 0; fd < FDS; fd++)
            fdtab_and(fd, ~bit);
    }
    for (int fd = 0; fd < FDS; fd++)
        fdtab_or(fd, bit);
    return NULL;
}

START_TEST(or_and_return_the_old_word)
{
    ck_assert_int_eq(fdtab_init(), 0);
    fdtab_set(7, FD_UDP);
    ck_assert_uint_eq(fdtab_or(7, FD_APPLIED), FD_UDP);
    ck_assert_uint_eq(fdtab_and(7, ~(uint32_t)FD_UDP), FD_UDP | FD_APPLIED);
    ck_assert_uint_eq(fdtab_get(7), FD_APPLIED);
    ck_assert_uint_eq(fdtab_or(-1, FD_APPLIED), FD_UNKNOWN);
    ck_assert_uint_eq(fdtab_and(-1, 0), FD_UNKNOWN);
    fdtab_or(300, FD_ASSOC);
    ck_assert_int_ge(fdtab_high(), 300); /* a close_range scan must reach it */
    fdtab_set(7, 0);
    fdtab_set(300, 0);
}
END_TEST

START_TEST(threads_never_lose_bits)
{
    pthread_t t[THREADS];
    uint32_t all = 0;

    ck_assert_int_eq(fdtab_init(), 0);
    for (uintptr_t i = 0; i < THREADS; i++) {
        all |= 1u << (8 + i);
        ck_assert_int_eq(pthread_create(&t[i], NULL, mark, (void *)i), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int fd = 0; fd < FDS; fd++)
        ck_assert_uint_eq(fdtab_get(fd), all);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fdtab");
    TCase *t = tcase_create("fdtab");
    SRunner *r;
    int failed;

    tcase_add_test(t, or_and_return_the_old_word);
    tcase_add_test(t, threads_never_lose_bits);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
