/* elf: what the tool needs to know about a program before it runs it, read from
 * the program's bytes.
 *
 * Promise: elf_inspect() is a pure function over LEN bytes at BUF (no alignment
 * assumed). Every offset, size, count and string in the file is checked against
 * LEN with overflow-safe arithmetic before it is used; a name that is not
 * NUL-terminated inside its string table is skipped. A file that is not a 64-bit
 * ELF of this machine's byte order, or whose program headers cannot be read, is
 * "not ELF": nothing can be said about it. It never reads outside BUF, whatever
 * the bytes.
 */
#ifndef DIALSHIM_TOOLS_ELF_H
#define DIALSHIM_TOOLS_ELF_H

#include <stdbool.h>
#include <stddef.h>

struct elf_facts {
    bool interp; /* a PT_INTERP program header: the dynamic loader runs it */
    bool go;     /* a Go section (.go.buildinfo, .note.go.buildid) */
};

/* 0 and *OUT filled for an ELF file this machine runs; -1 for anything else. */
int elf_inspect(const unsigned char *buf, size_t len, struct elf_facts *out);

#endif
