/* libFuzzer: elf_inspect(bytes, len), the tool's look at the program it is about to
 * run (tools/elf.c), on a heap copy of exactly the input so AddressSanitizer sees a
 * read of one byte past it. Checked: 0 or -1 only; -1 leaves no facts; anything
 * shorter than an ELF header is not ELF; the same bytes give the same answer.
 * Input: the file's bytes. */
#include "tests/fuzz/fuzz.h"
#include "tools/elf.h"

#include <elf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_copy(data, size);
    struct elf_facts a, b;
    int rc = elf_inspect(buf, size, &a);

    FUZZ_CHECK(rc == 0 || rc == -1, "elf_inspect returned %d", rc);
    FUZZ_CHECK(rc == 0 || (!a.interp && !a.go), "not ELF, yet interp=%d go=%d", a.interp, a.go);
    FUZZ_CHECK(size >= sizeof(Elf64_Ehdr) || rc == -1, "a %zu-byte file read as ELF", size);
    FUZZ_CHECK(elf_inspect(buf, size, &b) == rc && a.interp == b.interp && a.go == b.go,
               "a second look differs");
    free(buf);
    return 0;
}
