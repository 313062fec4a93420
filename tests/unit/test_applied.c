/* applied: which dialer's options a socket carries and whether another dialer may
 * take the socket over (common/applied.h), over a loaded configuration. */
#include "common/applied.h"

#include "common/fdtab.h"

#include <check.h>
#include <stdlib.h>

static const char *text = "[dialer viab]\n"
                          "type = direct\n"
                          "bind_interface = vb\n"
                          "[dialer viab2]\n"
                          "type = direct\n"
                          "bind_interface = vb\n"
                          "[dialer marked]\n"
                          "type = direct\n"
                          "routing_mark = 0x64\n"
                          "[dialer plain]\n"
                          "type = direct\n"
                          "[dialer prox]\n"
                          "type = socks5\n"
                          "server = 198.51.100.2:1080\n"
                          "detour = viab\n"
                          "[dialer bare]\n"
                          "type = socks5\n"
                          "server = 198.51.100.2:1080\n"
                          "[dialer wall]\n"
                          "type = block\n";

static struct conf *c;
static int viab, viab2, marked, plain, prox, bare, wall, direct;

static void setup(void)
{
    c = conf_load_string("t.ini", text, NULL, NULL);
    ck_assert_ptr_nonnull(c);
    viab = conf_dialer_index(c, "viab");
    viab2 = conf_dialer_index(c, "viab2");
    marked = conf_dialer_index(c, "marked");
    plain = conf_dialer_index(c, "plain");
    prox = conf_dialer_index(c, "prox");
    bare = conf_dialer_index(c, "bare");
    wall = conf_dialer_index(c, "wall");
    direct = conf_dialer_index(c, "direct");
    ck_assert_int_ge(direct, 0);
}

static void teardown(void)
{
    conf_free(c);
}

START_TEST(makers)
{
    ck_assert_int_eq(applied_maker(c, viab), viab);
    ck_assert_int_eq(applied_maker(c, prox), viab); /* the first hop is dialed by viab */
    ck_assert_int_eq(applied_maker(c, bare), bare); /* a proxy dials its own server */
    ck_assert_int_eq(applied_maker(c, wall), -1);
    ck_assert_int_eq(applied_maker(c, -1), -1);
}
END_TEST

START_TEST(needs)
{
    uint32_t fresh = FD_TCP;

    ck_assert_int_eq(applied_need(c, fresh, viab), APPLIED_SET);
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(viab), viab), APPLIED_READY);
    /* the same options under another name: nothing to do */
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(viab), viab2), APPLIED_READY);
    /* an empty set gives way; a set never does */
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(direct), viab), APPLIED_SET);
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(plain), marked), APPLIED_SET);
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(direct), plain), APPLIED_READY);
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(viab), direct), APPLIED_CLASH);
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(viab), marked), APPLIED_CLASH);
    ck_assert_int_eq(applied_need(c, FD_TCP | applied_bits(marked), viab), APPLIED_CLASH);
    /* recorded but taken off again (a disconnect the kernel undid): set again */
    ck_assert_int_eq(applied_need(c, FD_UDP | (applied_bits(viab) & ~FD_APPLIED), viab),
                     APPLIED_SET);
    /* FD_APPLIED without a dialer to compare: only a clash is safe */
    ck_assert_int_eq(applied_need(c, FD_TCP | FD_APPLIED, viab), APPLIED_CLASH);
    ck_assert(applied_same(c, viab, viab2));
    ck_assert(!applied_same(c, viab, marked));
}
END_TEST

START_TEST(marks)
{
    ck_assert_int_eq(fdtab_init(), 0);
    fdtab_set(9, FD_UDP | FD_ASSOC | applied_bits(viab));
    applied_mark(9, marked);
    ck_assert_uint_eq(fdtab_get(9), FD_UDP | FD_ASSOC | applied_bits(marked));
    ck_assert_int_eq(applied_dialer(fdtab_get(9)), marked);
    ck_assert_int_eq(applied_dialer(FD_TCP), -1);
    fdtab_set(9, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("applied");
    TCase *t = tcase_create("applied");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, makers);
    tcase_add_test(t, needs);
    tcase_add_test(t, marks);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
