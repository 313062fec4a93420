/* tools/elf.c: the tool's look at an untrusted program. A small well-formed ELF
 * (a loader, a Go section) and the same file crafted wrong: truncated headers, an
 * out-of-range e_shstrndx, offsets past the end, sums that overflow, huge counts,
 * a name that runs off its table. Each input sits at the very end of a mapped
 * page with an inaccessible page after it, so a read of even one byte past the
 * buffer kills the test. */
#include "tools/elf.h"

#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STRTAB_OFF 120 /* after the ELF header (64) and one program header (56) */
#define SHDR_OFF   160
#define FILE_LEN   (SHDR_OFF + 3 * 64)

static const char names[] = "\0.shstrtab\0.go.buildinfo"; /* sizeof: with the last NUL */

struct img {
    unsigned char b[FILE_LEN];
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    Elf64_Shdr sh[3];
};

/* A dynamically linked Go program, as far as the reader can tell. */
static void build(struct img *m)
{
    memset(m, 0, sizeof(*m));
    memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
    m->eh.e_ident[EI_CLASS] = ELFCLASS64;
    m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    m->eh.e_ident[EI_VERSION] = EV_CURRENT;
    m->eh.e_type = ET_DYN;
    m->eh.e_machine = EM_X86_64;
    m->eh.e_phoff = sizeof(Elf64_Ehdr);
    m->eh.e_phentsize = sizeof(Elf64_Phdr);
    m->eh.e_phnum = 1;
    m->eh.e_shoff = SHDR_OFF;
    m->eh.e_shentsize = sizeof(Elf64_Shdr);
    m->eh.e_shnum = 3;
    m->eh.e_shstrndx = 1;
    m->ph.p_type = PT_INTERP;
    m->sh[1].sh_name = 1;
    m->sh[1].sh_type = SHT_STRTAB;
    m->sh[1].sh_offset = STRTAB_OFF;
    m->sh[1].sh_size = sizeof(names);
    m->sh[2].sh_name = 11;
}

static const unsigned char *bytes(struct img *m)
{
    memcpy(m->b, &m->eh, sizeof(m->eh));
    memcpy(m->b + sizeof(m->eh), &m->ph, sizeof(m->ph));
    memcpy(m->b + STRTAB_OFF, names, sizeof(names));
    memcpy(m->b + SHDR_OFF, m->sh, sizeof(m->sh));
    return m->b;
}

/* LEN bytes of B, ending right before a PROT_NONE page. */
static int inspect(const unsigned char *b, size_t len, struct elf_facts *f)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t span = ((len + (size_t)pg - 1) / (size_t)pg + 1) * (size_t)pg;
    unsigned char *area =
        mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *at;
    int rc;

    ck_assert_ptr_ne(area, MAP_FAILED);
    ck_assert_int_eq(mprotect(area + span - pg, (size_t)pg, PROT_NONE), 0);
    at = area + span - pg - len;
    memcpy(at, b, len);
    rc = elf_inspect(at, len, f);
    munmap(area, span);
    return rc;
}

static struct img m;
static struct elf_facts f;

START_TEST(well_formed)
{
    build(&m);
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(f.interp);
    ck_assert(f.go);
    m.ph.p_type = PT_LOAD;
    m.sh[2].sh_name = 1; /* .shstrtab */
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(!f.interp);
    ck_assert(!f.go);
}
END_TEST

START_TEST(not_elf)
{
    build(&m);
    bytes(&m);
    ck_assert_int_eq(inspect((const unsigned char *)"#!/bin/sh\n", 10, &f), -1);
    ck_assert_int_eq(inspect(m.b, 0, &f), -1);
    m.eh.e_ident[EI_CLASS] = ELFCLASS32;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), -1);
    build(&m);
    m.eh.e_ident[EI_DATA] = ELFDATA2MSB;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), -1);
}
END_TEST

START_TEST(truncated)
{
    build(&m);
    bytes(&m);
    for (size_t len = 0; len < sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr); len++)
        ck_assert_int_eq(inspect(m.b, len, &f), -1);
    /* program headers whole, the section table cut anywhere: no Go, never a read past */
    for (size_t len = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr); len < FILE_LEN; len++) {
        ck_assert_int_eq(inspect(m.b, len, &f), 0);
        ck_assert(f.interp);
        ck_assert(!f.go);
    }
}
END_TEST

START_TEST(program_headers_out_of_file)
{
    static const uint64_t offs[] = {FILE_LEN, FILE_LEN - 55, UINT64_MAX - 10, UINT64_MAX};

    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        build(&m);
        m.eh.e_phoff = offs[i];
        ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), -1);
    }
    build(&m);
    m.eh.e_phnum = 0xffff;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), -1);
    build(&m);
    m.eh.e_phentsize = 8; /* a stride that is not Elf64_Phdr's */
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), -1);
}
END_TEST

START_TEST(shstrndx_out_of_range)
{
    static const uint16_t idx[] = {3, 0xfeff, SHN_LORESERVE, SHN_XINDEX};

    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        build(&m);
        m.eh.e_shstrndx = idx[i];
        m.sh[0].sh_link = 0xffffffff; /* SHN_XINDEX's real index, out of range too */
        ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
        ck_assert(f.interp);
        ck_assert(!f.go);
    }
    /* extended numbering done right is followed */
    build(&m);
    m.eh.e_shstrndx = SHN_XINDEX;
    m.sh[0].sh_link = 1;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(f.go);
}
END_TEST

START_TEST(sections_out_of_file)
{
    static const struct {
        uint64_t shoff, str_off, str_size;
        uint32_t name;
    } cases[] = {
        {FILE_LEN, STRTAB_OFF, sizeof(names), 11},         /* table past the end */
        {FILE_LEN - 64, STRTAB_OFF, sizeof(names), 11},    /* table cut */
        {UINT64_MAX - 63, STRTAB_OFF, sizeof(names), 11},  /* offset + size wraps */
        {SHDR_OFF, FILE_LEN + 1, sizeof(names), 11},       /* names past the end */
        {SHDR_OFF, STRTAB_OFF, FILE_LEN, 11},              /* names run past the end */
        {SHDR_OFF, 8, UINT64_MAX, 11},                     /* names' size wraps */
        {SHDR_OFF, UINT64_MAX, 2, 11},                     /* names' offset wraps */
        {SHDR_OFF, STRTAB_OFF, sizeof(names), 0xfffffff0}, /* a name far outside */
        {SHDR_OFF, STRTAB_OFF, sizeof(names) - 1, 11},     /* last name unterminated */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        build(&m);
        m.eh.e_shoff = cases[i].shoff;
        m.sh[1].sh_offset = cases[i].str_off;
        m.sh[1].sh_size = cases[i].str_size;
        m.sh[2].sh_name = cases[i].name;
        ck_assert_msg(inspect(bytes(&m), FILE_LEN, &f) == 0, "case %zu", i);
        ck_assert_msg(!f.go, "case %zu", i);
    }
}
END_TEST

/* The name table is the file's last bytes and its last name has no NUL: the next
 * byte is the fence. */
START_TEST(name_at_end_unterminated)
{
    size_t n = sizeof(names) - 1;

    build(&m);
    m.sh[1].sh_offset = FILE_LEN - n;
    m.sh[1].sh_size = n;
    bytes(&m);
    memcpy(m.b + FILE_LEN - n, names, n);
    ck_assert_int_eq(inspect(m.b, FILE_LEN, &f), 0);
    ck_assert(!f.go);
    m.sh[1].sh_size = n + 1; /* claims the NUL that would be past the end */
    memcpy(m.b + SHDR_OFF + sizeof(Elf64_Shdr), &m.sh[1], sizeof(Elf64_Shdr));
    ck_assert_int_eq(inspect(m.b, FILE_LEN, &f), 0);
    ck_assert(!f.go);
}
END_TEST

START_TEST(huge_counts)
{
    build(&m);
    m.eh.e_shnum = 0xffff;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(!f.go);
    /* e_shnum 0: the count is section 0's sh_size */
    build(&m);
    m.eh.e_shnum = 0;
    m.sh[0].sh_size = UINT64_MAX / 2;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(!f.go);
    m.sh[0].sh_size = 3;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(f.go);
    build(&m);
    m.eh.e_shentsize = 0;
    ck_assert_int_eq(inspect(bytes(&m), FILE_LEN, &f), 0);
    ck_assert(!f.go);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("elf");
    TCase *t = tcase_create("elf");
    SRunner *r;
    int failed;

    tcase_add_test(t, well_formed);
    tcase_add_test(t, not_elf);
    tcase_add_test(t, truncated);
    tcase_add_test(t, program_headers_out_of_file);
    tcase_add_test(t, shstrndx_out_of_range);
    tcase_add_test(t, sections_out_of_file);
    tcase_add_test(t, name_at_end_unterminated);
    tcase_add_test(t, huge_counts);
    suite_add_tcase(s, t);
    r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
