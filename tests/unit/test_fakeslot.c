/* fakeslot: the shared fake-address table's lock-free slots, on anonymous shared
 * memory (threads, and processes of fork, one of them killed mid-way). */
#include "common/fakeip_int.h"
#include "common/fakeslot.h"
#include "common/sys.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 8
#define NAMES   400

static void *region;
static size_t region_size;
static struct fakeslot_head head;

/* A fresh region with CAP4 IPv4 slots (and a few IPv6 ones). */
static void make_region(uint32_t cap4)
{
    const uint8_t b4[4] = {198, 18, 0, 0}, b6[16] = {0xfc};
    const uint32_t cap[2] = {cap4, 16};

    if (region)
        munmap(region, region_size);
    region_size = fakeslot_layout(&head, b4, b6, cap);
    region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(region, MAP_FAILED);
    memcpy(region, &head, sizeof(head));
}

static int get(const char *name, bool add, uint32_t *slot)
{
    struct fakeslot_view v;
    bool added;

    fakeslot_view(region, 0, &v);
    return fakeslot_get(&v, name, fakeip_hash(name), add, slot, &added);
}

static const char *name_of(uint32_t slot, char *buf, size_t cap)
{
    struct fakeslot_view v;

    fakeslot_view(region, 0, &v);
    return fakeslot_name(&v, slot, buf, cap) ? buf : "-";
}

/* Every name in the index maps back to its slot, and no slot holds two names. */
static void assert_consistent(void)
{
    struct fakeslot_view v;
    char buf[FAKESLOT_NAME];
    uint32_t slot;
    unsigned char *seen;

    fakeslot_view(region, 0, &v);
    seen = calloc(v.cap, 1);
    ck_assert_ptr_nonnull(seen);
    for (uint32_t p = 0; p <= v.mask; p++) {
        uint32_t e = v.index[p];
        if (!e)
            continue;
        ck_assert_uint_le(e, v.cap);
        ck_assert_msg(!seen[e - 1], "slot %u referenced twice", e - 1);
        seen[e - 1] = 1;
        ck_assert(fakeslot_name(&v, e - 1, buf, sizeof(buf)));
        ck_assert_int_eq(get(buf, false, &slot), 0);
        ck_assert_uint_eq(slot, e - 1);
    }
    free(seen);
}

START_TEST(one_slot_per_name)
{
    uint32_t a, b, c;
    char buf[FAKESLOT_NAME];

    make_region(100);
    ck_assert_int_eq(get("a.example", false, &a), ENOENT);
    ck_assert_int_eq(get("a.example", true, &a), 0);
    ck_assert_int_eq(get("b.example", true, &b), 0);
    ck_assert_int_eq(get("a.example", true, &c), 0);
    ck_assert_uint_eq(a, c);
    ck_assert_uint_ne(a, b);
    ck_assert_str_eq(name_of(a, buf, sizeof(buf)), "a.example");
    ck_assert_str_eq(name_of(b, buf, 4), "b.e");            /* truncated, terminated */
    ck_assert_str_eq(name_of(50, buf, sizeof(buf)), "-");   /* never handed out */
    ck_assert_str_eq(name_of(1000, buf, sizeof(buf)), "-"); /* beyond the range */
    assert_consistent();
}
END_TEST

START_TEST(full_table_refuses_and_keeps_its_names)
{
    char name[32], buf[FAKESLOT_NAME];
    uint32_t slot;

    make_region(6);
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "n%d.example", i);
        ck_assert_int_eq(get(name, true, &slot), 0);
        ck_assert_uint_eq(slot, (uint32_t)i);
    }
    ck_assert_int_eq(get("extra.example", true, &slot), EAGAIN);
    ck_assert_int_eq(get("n3.example", true, &slot), 0);
    ck_assert_str_eq(name_of(slot, buf, sizeof(buf)), "n3.example");
    assert_consistent();
}
END_TEST

START_TEST(other_layouts_are_not_read)
{
    struct fakeslot_head other;
    const uint8_t b4[4] = {198, 18, 0, 0}, b6[16] = {0xfc}, c4[4] = {10, 0, 0, 0};
    const uint32_t cap[2] = {100, 16}, cap2[2] = {200, 16};

    make_region(100);
    ck_assert(fakeslot_matches(region, region_size, &head));
    ck_assert(!fakeslot_matches(region, region_size - 4096, &head));
    fakeslot_layout(&other, b4, b6, cap2); /* another range size */
    ck_assert(!fakeslot_matches(region, region_size, &other));
    fakeslot_layout(&other, c4, b6, cap); /* another base, same size */
    ck_assert(!fakeslot_matches(region, region_size, &other));
    ((struct fakeslot_head *)region)->version = FAKESLOT_VERSION + 1;
    ck_assert(!fakeslot_matches(region, region_size, &head));
    memset(region, 0, 64); /* no magic */
    ck_assert(!fakeslot_matches(region, region_size, &head));
}
END_TEST

/* Names get their pages by chunks before a first write: a chunk the file
 * system cannot back refuses the name with the error and keeps the slot for
 * the next one; each chunk is asked for once it worked. */
static int grow_calls[8], grow_fail_chunk = -1;

static int fake_grow(void *addr, size_t len)
{
    struct fakeslot_view v;
    fakeslot_view(region, 0, &v);
    int c = (int)(((char(*)[FAKESLOT_NAME])addr - v.names) / FAKESLOT_CHUNK);

    ck_assert_uint_eq(len, (size_t)FAKESLOT_CHUNK * FAKESLOT_NAME);
    grow_calls[c]++;
    return c == grow_fail_chunk ? EFAULT : 0;
}

START_TEST(names_are_backed_by_chunks)
{
    struct fakeslot_view v;
    char name[32], buf[FAKESLOT_NAME];
    uint32_t slot;
    bool added;

    make_region(4 * FAKESLOT_CHUNK);
    fakeslot_view(region, 0, &v);
    v.grow = fake_grow;
    memset(grow_calls, 0, sizeof(grow_calls));
    grow_fail_chunk = 2;
    for (uint32_t i = 0; i < 2 * FAKESLOT_CHUNK; i++) {
        snprintf(name, sizeof(name), "n%u.example", i);
        ck_assert_int_eq(fakeslot_get(&v, name, fakeip_hash(name), true, &slot, &added), 0);
        ck_assert_uint_eq(slot, i);
    }
    ck_assert_int_eq(fakeslot_get(&v, "c2.example", fakeip_hash("c2.example"), true, &slot, &added),
                     EFAULT);
    ck_assert_int_eq(get("c2.example", false, &slot), ENOENT);
    grow_fail_chunk = -1;
    ck_assert_int_eq(fakeslot_get(&v, "c2.example", fakeip_hash("c2.example"), true, &slot, &added),
                     0);
    ck_assert_uint_eq(slot, 2 * FAKESLOT_CHUNK); /* the slot given back */
    ck_assert_str_eq(name_of(slot, buf, sizeof(buf)), "c2.example");
    ck_assert_int_eq(grow_calls[0], 1);
    ck_assert_int_eq(grow_calls[1], 1);
    ck_assert_int_eq(grow_calls[2], 2);
    ck_assert_int_eq(grow_calls[3], 0);
    assert_consistent();
}
END_TEST

struct worker {
    int id;
    uint32_t slot[NAMES]; /* + 1; 0: none */
    bool ok;
};

static pthread_barrier_t start;

/* Names 0..NAMES-1 are asked by every thread in the same order, from the same
 * moment, so that threads often race for one name; each thread also adds names
 * of its own. */
static void *hammer(void *arg)
{
    struct worker *w = arg;
    char name[32], buf[FAKESLOT_NAME];
    uint32_t slot;

    w->ok = true;
    pthread_barrier_wait(&start);
    for (int r = 0; r < NAMES; r++) {
        int k = r;
        snprintf(name, sizeof(name), "s%d.example", k);
        if (get(name, true, &slot) != 0 || strcmp(name_of(slot, buf, sizeof(buf)), name) != 0)
            w->ok = false;
        else if (w->slot[k] && w->slot[k] != slot + 1)
            w->ok = false;
        w->slot[k] = slot + 1;
        snprintf(name, sizeof(name), "t%d-%d.example", w->id, r);
        if (get(name, true, &slot) != 0 || strcmp(name_of(slot, buf, sizeof(buf)), name) != 0)
            w->ok = false;
    }
    return NULL;
}

START_TEST(threads_agree_on_one_slot_per_name)
{
    static struct worker w[THREADS];
    pthread_t t[THREADS];
    struct fakeslot_view v;
    uint32_t slot;

    make_region(THREADS * NAMES + NAMES); /* exactly enough: a lost race gives its slot back */
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(w[i].ok, "thread %d saw another slot or name", i);
        for (int k = 0; k < NAMES; k++)
            ck_assert_uint_eq(w[i].slot[k], w[0].slot[k]);
    }
    assert_consistent();
    /* every slot holds a name: none was lost to a race */
    fakeslot_view(region, 0, &v);
    ck_assert_uint_eq(v.f->next, v.cap);
    ck_assert_uint_eq((uint32_t)v.f->free_head, 0);
    ck_assert_int_eq(get("late.example", true, &slot), EAGAIN);
}
END_TEST

/* Processes of fork on the same memory, one killed (SIGKILL) while it adds names:
 * the others finish, agree, and the table is consistent and still takes names. */
START_TEST(processes_agree_and_survive_a_kill)
{
    pid_t pid[5];
    int status;
    uint32_t slot;

    make_region(110000);
    for (int c = 0; c < 5; c++) {
        pid[c] = fork();
        ck_assert_int_ge(pid[c], 0);
        if (pid[c] == 0) {
            char name[32], buf[FAKESLOT_NAME];
            uint32_t s;
            /* the victim adds names until it is killed (at most 100000) */
            for (int r = 0; r < (c == 0 ? 100000 : 3000); r++) {
                snprintf(name, sizeof(name), c == 0 ? "v%d.example" : "p%d.example",
                         c == 0 ? r : r % 2000);
                if (get(name, true, &s) != 0 || strcmp(name_of(s, buf, sizeof(buf)), name))
                    _exit(1);
            }
            if (c == 0)
                pause();
            _exit(0);
        }
    }
    usleep(20000);
    kill(pid[0], SIGKILL);
    ck_assert_int_eq(waitpid(pid[0], &status, 0), pid[0]);
    for (int c = 1; c < 5; c++) {
        ck_assert_int_eq(waitpid(pid[c], &status, 0), pid[c]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_consistent();
    ck_assert_int_eq(get("after.example", true, &slot), 0);
}
END_TEST

int main(void)
{
    sys_init_default();
    Suite *s = suite_create("fakeslot");
    TCase *tc = tcase_create("slots");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, one_slot_per_name);
    tcase_add_test(tc, full_table_refuses_and_keeps_its_names);
    tcase_add_test(tc, other_layouts_are_not_read);
    tcase_add_test(tc, names_are_backed_by_chunks);
    tcase_add_test(tc, threads_agree_on_one_slot_per_name);
    tcase_add_test(tc, processes_agree_and_survive_a_kill);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
