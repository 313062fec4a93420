/* tools/supervise_arch.c: a trapped call of an i386 program decoded as the
 * supervisor serves it (socketcall's arguments read from memory, the direct
 * i386 calls' from the low 32 bits of the registers), x32 and unknown
 * architectures refused, and the 32-bit msghdr, iovec, mmsghdr and cmsghdr
 * layouts read as native ones. The program's memory is this process's, below
 * 4 GiB (MAP_32BIT) as an i386 program's is; sup_read is a copy from it. */
#include "tools/supervise_arch.c"

#include <check.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/mman.h>

struct sup sup;

int sup_read(pid_t tid, uint64_t addr, void *out, size_t len)
{
    (void)tid;
    if (len && addr < 4096)
        return EFAULT;
    memcpy(out, (const void *)(uintptr_t)addr, len);
    return 0;
}

static uint8_t *low; /* one page below 4 GiB */

static void setup(void)
{
    low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    ck_assert_ptr_ne(low, MAP_FAILED);
    ck_assert_uint_lt((uintptr_t)low, 1ull << 32);
    sup.native_arch = AUDIT_ARCH_X86_64;
}

static void teardown(void)
{
    munmap(low, 4096);
}

static struct seccomp_notif notif(uint32_t arch, int nr)
{
    struct seccomp_notif n = {.pid = (uint32_t)getpid()};

    n.data.arch = arch;
    n.data.nr = nr;
    return n;
}

START_TEST(socketcall_connect_reads_its_arguments)
{
    uint32_t args[3] = {7, 0x1234, 16};
    struct seccomp_notif n = notif(AUDIT_ARCH_I386, I386_SOCKETCALL);
    struct trap t = {.n = &n, .tid = getpid()};

    memcpy(low, args, sizeof(args));
    n.data.args[0] = SC_CONNECT;
    n.data.args[1] = (uintptr_t)low;
    ck_assert_int_eq(sup_decode(&n, &t), 0);
    ck_assert_int_eq(t.nr, SYS_connect);
    ck_assert(t.compat);
    ck_assert_uint_eq(t.a[0], 7);
    ck_assert_uint_eq(t.a[1], 0x1234);
    ck_assert_uint_eq(t.a[2], 16);
    ck_assert_uint_eq(t.a[3], 0);
}
END_TEST

START_TEST(socketcall_sendto_takes_six_words)
{
    uint32_t args[6] = {3, 0x2000, 5, MSG_DONTWAIT, 0x3000, 16};
    struct seccomp_notif n = notif(AUDIT_ARCH_I386, I386_SOCKETCALL);
    struct trap t = {.n = &n, .tid = getpid()};

    memcpy(low, args, sizeof(args));
    n.data.args[0] = SC_SENDTO;
    n.data.args[1] = (uintptr_t)low;
    ck_assert_int_eq(sup_decode(&n, &t), 0);
    ck_assert_int_eq(t.nr, SYS_sendto);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(t.a[i], args[i]);
}
END_TEST

START_TEST(socketcall_of_other_calls_and_bad_memory_refused)
{
    struct seccomp_notif n = notif(AUDIT_ARCH_I386, I386_SOCKETCALL);
    struct trap t = {.n = &n, .tid = getpid()};

    n.data.args[0] = 1; /* SYS_SOCKET: never trapped */
    n.data.args[1] = (uintptr_t)low;
    ck_assert_int_eq(sup_decode(&n, &t), EPERM);
    n.data.args[0] = SC_SENDMSG;
    n.data.args[1] = 16; /* an unmapped page */
    ck_assert_int_eq(sup_decode(&n, &t), EFAULT);
}
END_TEST

START_TEST(direct_i386_calls_take_the_low_32_bits)
{
    static const int nrs[] = {I386_CONNECT, I386_GETPEERNAME, I386_SENDTO, I386_SENDMSG,
                              I386_SENDMMSG};
    static const int natives[] = {SYS_connect, SYS_getpeername, SYS_sendto, SYS_sendmsg,
                                  SYS_sendmmsg};

    for (int i = 0; i < 5; i++) {
        struct seccomp_notif n = notif(AUDIT_ARCH_I386, nrs[i]);
        struct trap t = {.n = &n, .tid = getpid()};
        for (int k = 0; k < 6; k++)
            n.data.args[k] = 0xdeadbeef00000000ull | (uint64_t)(k + 1);
        ck_assert_int_eq(sup_decode(&n, &t), 0);
        ck_assert_int_eq(t.nr, natives[i]);
        ck_assert(t.compat);
        for (int k = 0; k < 6; k++)
            ck_assert_uint_eq(t.a[k], (uint64_t)(k + 1));
    }
}
END_TEST

START_TEST(native_passes_x32_and_others_refused)
{
    struct seccomp_notif n = notif(AUDIT_ARCH_X86_64, SYS_connect);
    struct trap t = {.n = &n, .tid = getpid()};

    n.data.args[0] = 1ull << 40;
    ck_assert_int_eq(sup_decode(&n, &t), 0);
    ck_assert_int_eq(t.nr, SYS_connect);
    ck_assert(!t.compat);
    ck_assert_uint_eq(t.a[0], 1ull << 40);
    n = notif(AUDIT_ARCH_X86_64, 0x40000000 | SYS_connect);
    ck_assert_int_eq(sup_decode(&n, &t), EPERM);
    n = notif(AUDIT_ARCH_AARCH64, 203);
    ck_assert_int_eq(sup_decode(&n, &t), EPERM);
    sup.native_arch = AUDIT_ARCH_AARCH64; /* i386 only beside x86-64 */
    n = notif(AUDIT_ARCH_I386, I386_CONNECT);
    ck_assert_int_eq(sup_decode(&n, &t), EPERM);
}
END_TEST

START_TEST(msghdr_iovec_mmsghdr_in_32_bit_layout)
{
    uint32_t m32[7] = {0x1000, 16, 0x2000, 2, 0x3000, 40, 0};
    uint32_t iov32[4] = {0x4000, 10, 0x5000, 20};
    struct trap t = {.compat = true};
    struct msghdr m;
    struct iovec iov[2];

    memcpy(low, m32, sizeof(m32));
    memcpy(low + 64, iov32, sizeof(iov32));
    ck_assert_int_eq(sup_read_msghdr(&t, (uintptr_t)low, &m), 0);
    ck_assert_ptr_eq(m.msg_name, (void *)0x1000);
    ck_assert_uint_eq(m.msg_namelen, 16);
    ck_assert_ptr_eq(m.msg_iov, (void *)0x2000);
    ck_assert_uint_eq(m.msg_iovlen, 2);
    ck_assert_ptr_eq(m.msg_control, (void *)0x3000);
    ck_assert_uint_eq(m.msg_controllen, 40);
    ck_assert_int_eq(sup_read_iov(&t, (uintptr_t)low + 64, iov, 2), 0);
    ck_assert_ptr_eq(iov[0].iov_base, (void *)0x4000);
    ck_assert_uint_eq(iov[0].iov_len, 10);
    ck_assert_ptr_eq(iov[1].iov_base, (void *)0x5000);
    ck_assert_uint_eq(iov[1].iov_len, 20);
    ck_assert_uint_eq(sup_mmsg_size(&t), 32);
    ck_assert_uint_eq(sup_mmsg_len_at(&t), 28);
    t.compat = false;
    ck_assert_uint_eq(sup_mmsg_size(&t), sizeof(struct mmsghdr));
}
END_TEST

START_TEST(control_messages_widened)
{
    /* IP_TOS (one int) then UDP_SEGMENT (a u16), each 32-bit aligned. */
    uint8_t in[12 + 4 + 12 + 4] = {0};
    uint32_t h1[3] = {16, IPPROTO_IP, IP_TOS}, h2[3] = {14, IPPROTO_UDP, 103};
    int tos = 0x10;
    uint16_t seg = 1200;
    char out[256];
    size_t len;
    struct trap t = {.compat = true};
    struct msghdr m = {.msg_control = out};
    struct cmsghdr *c;

    memcpy(in, h1, 12);
    memcpy(in + 12, &tos, 4);
    memcpy(in + 16, h2, 12);
    memcpy(in + 28, &seg, 2);
    ck_assert_int_eq(sup_control_native(&t, (char *)in, 30, out, sizeof(out), &len), 0);
    m.msg_controllen = len;
    ck_assert_uint_eq(len, CMSG_SPACE(4) + CMSG_SPACE(2));
    c = CMSG_FIRSTHDR(&m);
    ck_assert_uint_eq(c->cmsg_len, CMSG_LEN(4));
    ck_assert_int_eq(c->cmsg_type, IP_TOS);
    ck_assert_int_eq(*(int *)CMSG_DATA(c), 0x10);
    c = CMSG_NXTHDR(&m, c);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->cmsg_level, IPPROTO_UDP);
    ck_assert_uint_eq(c->cmsg_len, CMSG_LEN(2));
    ck_assert_uint_eq(*(uint16_t *)CMSG_DATA(c), 1200);
    h1[0] = 40; /* runs past the buffer */
    memcpy(in, h1, 12);
    ck_assert_int_eq(sup_control_native(&t, (char *)in, 30, out, sizeof(out), &len), EINVAL);
    ck_assert_int_eq(sup_control_native(&t, (char *)in, 30, out, 8, &len), EINVAL);
    memcpy(in, (uint32_t[]){16}, 4);
    ck_assert_int_eq(sup_control_native(&t, (char *)in, 30, out, 20, &len), ENOBUFS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("suparch");
    TCase *tc = tcase_create("suparch");
    SRunner *r;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, socketcall_connect_reads_its_arguments);
    tcase_add_test(tc, socketcall_sendto_takes_six_words);
    tcase_add_test(tc, socketcall_of_other_calls_and_bad_memory_refused);
    tcase_add_test(tc, direct_i386_calls_take_the_low_32_bits);
    tcase_add_test(tc, native_passes_x32_and_others_refused);
    tcase_add_test(tc, msghdr_iovec_mmsghdr_in_32_bit_layout);
    tcase_add_test(tc, control_messages_widened);
    suite_add_tcase(s, tc);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
