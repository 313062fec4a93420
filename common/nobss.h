/* NOBSS: keep a large zero-initialised static out of .bss.
 *
 * Why: when .bss outgrows the tail of the library's last data page, the dynamic
 * loader maps it as an anonymous region of its own, in every process under the
 * shim, whether it ever connects or not: a cost at every process start.
 * A variable marked NOBSS lives in .data instead (zeros in the file, pages faulted
 * in only when touched, like .bss). The library's link script (shim/start.ld) now
 * turns all of .bss into file zeros anyway (tools/startcheck.sh checks it); the
 * mark still says which statics are big. Large tables that are only needed after
 * the first lookup are better allocated then (common/dns.c's cache). */
#ifndef DIALSHIM_NOBSS_H
#define DIALSHIM_NOBSS_H

#define NOBSS __attribute__((section(".data.nobss")))

/* START_DATA(N): data the constructor writes at every start, placed by
 * shim/start.ld in the order of N right after the pages the loader writes
 * anyway, so that a start dirties as few pages as it can. */
#define START_DATA(n) __attribute__((section(".data.start." n)))

/* FIRST_DATA: what a process's first hook writes (the table of real functions,
 * the loading's flags, the log's state, the descriptor table's reservation,
 * bigstack's answers), together in one section: that call then dirties one page
 * of the data segment, not one per file (each a copy-on-write fault, dear on
 * virtual machines). The hooks read most of it at every call, too. */
#define FIRST_DATA __attribute__((section(".data.first")))

#endif
