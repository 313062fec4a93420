/* elf: the program headers (is there a loader?) and the section names (is it Go?)
 * of an untrusted file. Headers are copied out with memcpy: the buffer may be a
 * fuzzer's, with no alignment. */
#include "tools/elf.h"

#include <elf.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

/* [OFF, OFF + COUNT * SIZE) lies inside LEN bytes; no sum or product overflows. */
static bool in_file(uint64_t off, uint64_t count, uint64_t size, size_t len)
{
    if (off > len)
        return false;
    return size == 0 || count <= (len - off) / size;
}

static bool load_ehdr(const unsigned char *buf, size_t len, Elf64_Ehdr *eh)
{
    if (len < sizeof(*eh))
        return false;
    memcpy(eh, buf, sizeof(*eh));
    return memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
           eh->e_ident[EI_DATA] == (BYTE_ORDER == LITTLE_ENDIAN ? ELFDATA2LSB : ELFDATA2MSB);
}

static bool has_interp(const unsigned char *buf, size_t len, const Elf64_Ehdr *eh, bool *interp)
{
    Elf64_Phdr ph;

    *interp = false;
    if (eh->e_phnum && eh->e_phentsize != sizeof(ph))
        return false;
    if (!in_file(eh->e_phoff, eh->e_phnum, sizeof(ph), len))
        return false;
    for (size_t i = 0; i < eh->e_phnum; i++) {
        memcpy(&ph, buf + eh->e_phoff + i * sizeof(ph), sizeof(ph));
        *interp |= ph.p_type == PT_INTERP;
    }
    return true;
}

/* Section I's header; the caller has checked the table lies in the file. */
static Elf64_Shdr shdr(const unsigned char *buf, const Elf64_Ehdr *eh, uint64_t i)
{
    Elf64_Shdr sh;

    memcpy(&sh, buf + eh->e_shoff + i * sizeof(sh), sizeof(sh));
    return sh;
}

static bool go_name(const char *s)
{
    return strcmp(s, ".go.buildinfo") == 0 || strcmp(s, ".note.go.buildid") == 0;
}

/* Any section named like Go's? Counts and the name table's index past 0xff00
 * live in section 0 (the ELF extended numbering). */
static bool has_go(const unsigned char *buf, size_t len, const Elf64_Ehdr *eh)
{
    uint64_t count = eh->e_shnum, strndx = eh->e_shstrndx;
    Elf64_Shdr strs;

    if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !in_file(eh->e_shoff, 1, sizeof(Elf64_Shdr), len))
        return false;
    if (count == 0)
        count = shdr(buf, eh, 0).sh_size;
    if (strndx == SHN_XINDEX)
        strndx = shdr(buf, eh, 0).sh_link;
    if (strndx >= count || !in_file(eh->e_shoff, count, sizeof(Elf64_Shdr), len))
        return false;
    strs = shdr(buf, eh, strndx);
    if (!in_file(strs.sh_offset, strs.sh_size, 1, len))
        return false;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t name = shdr(buf, eh, i).sh_name;
        const char *s = (const char *)buf + strs.sh_offset + name;

        if (name < strs.sh_size && memchr(s, '\0', strs.sh_size - name) && go_name(s))
            return true;
    }
    return false;
}

int elf_inspect(const unsigned char *buf, size_t len, struct elf_facts *out)
{
    Elf64_Ehdr eh;

    memset(out, 0, sizeof(*out));
    if (!load_ehdr(buf, len, &eh) || !has_interp(buf, len, &eh, &out->interp))
        return -1;
    out->go = has_go(buf, len, &eh);
    return 0;
}
