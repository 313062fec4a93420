/* NOBSS: keep a large zero-initialised static out of .bss.
 *
 * Why: when .bss outgrows the tail of the library's last data page, the dynamic
 * loader maps it as an anonymous region of its own, in every process under the
 * shim, whether it ever connects or not: a cost at every process start.
 * A variable marked NOBSS lives in .data instead (zeros in the file, pages faulted
 * in only when touched, like .bss). What is left in .bss must stay under a page:
 * `readelf -lW build/libdialshim.so` shows the RW LOAD with MemSiz close to
 * FileSiz. Large tables that are only needed after the first lookup are better
 * allocated then (common/dns.c's cache). */
#ifndef DIALSHIM_NOBSS_H
#define DIALSHIM_NOBSS_H

#define NOBSS __attribute__((section(".data.nobss")))

#endif
