# dialshim: `make` builds build/libdialshim.so and build/dialshim.
# `make demo` and `make check` are the README's two commands.

PREFIX  ?= /usr/local
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

# SANITIZE=address,undefined or SANITIZE=thread builds everything instrumented, in a
# build directory of its own (build/san-address,undefined/, build/san-thread/), so its
# objects never mix with the normal build. `make check SANITIZE=...` runs the unit
# suite and the t_stress_* integration scenarios (which preload the sanitizer runtime
# before the shim); the other integration files expect an uninstrumented shim.
SANITIZE ?=
SANFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer,)
ifneq ($(SANITIZE),)
BUILD   ?= build/san-$(SANITIZE)
endif
# CARES=shared (the Debian package, debian/rules) uses the system's libcares.so,
# loaded on the first c-ares lookup (common/cares_api.h), instead of the renamed
# static copy below; its objects live in build/cares-shared/.
CARES   ?= static
ifeq ($(CARES),shared)
BUILD   ?= build/cares-shared
endif
BUILD   ?= build
# Where `make install` puts the library (the Debian package: the multiarch directory).
LIBDIR  ?= $(PREFIX)/lib

DEP_CFLAGS := $(shell pkg-config --cflags libcares inih check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

# c-ares and inih are linked statically into the library, and their calls of libc
# functions would bind at run time to the shim's own exported hooks (we come first
# in the lookup order): c-ares 1.18's ares_process.o calls socket, connect, close,
# fcntl, recv, recvfrom, send and writev, ares__sortaddrinfo.o getsockname. With
# ares_set_socket_functions (common/dns.c) most of them are dead code, but which
# ones depends on the c-ares version and on which API the engine happens to call;
# a proof by test would have to be redone at every upgrade. So every hooked name
# an archive calls is renamed in a copy of it (tools/layer.sh rewrite) to
# sys_libc_NAME, which common/sys.c sends through the table of real functions: none
# can reach a hook, and a name without such a function fails the link. The tool and
# the unit tests link the same copies. `make layercheck` (run by `make check`)
# verifies the copies and every object of common/ and conf/.
ifeq ($(CARES),shared)
CARES_SONAME := $(shell objdump -p "$$($(CC) -print-file-name=libcares.so)" 2>/dev/null | awk '/SONAME/ {print $$2}')
CARES_DEFS   := -DDIALSHIM_CARES_SHARED -DDIALSHIM_CARES_SONAME='"$(or $(CARES_SONAME),libcares.so.2)"'
DEP_ARCHIVES := $(BUILD)/deps/libinih.a
STATIC_LIBS  := $(DEP_ARCHIVES) $(filter-out -linih,$(shell pkg-config --libs --static inih 2>/dev/null))
else
DEP_ARCHIVES := $(BUILD)/deps/libcares.a $(BUILD)/deps/libinih.a
STATIC_LIBS := $(DEP_ARCHIVES) $(filter-out -lcares -linih,$(shell pkg-config --libs --static libcares inih 2>/dev/null))
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
          -D_GNU_SOURCE -DDIALSHIM_VERSION='"$(VERSION)"' -I. $(DEP_CFLAGS) $(SANFLAGS) $(CARES_DEFS)
LDLIBS  := $(STATIC_LIBS) -lpthread -ldl

# The hooks run on the program's threads, whose stacks may be 16 KiB
# (PTHREAD_STACK_MIN): no function of the library may take more than 4 KiB of
# stack (big buffers go to the heap; c-ares runs on a stack of its own,
# common/bigstack.h). A sanitizer's instrumented frames are larger: not checked there.
STACK_FLAGS := $(if $(SANITIZE),,-Wstack-usage=4096)

# The tool's other files (tools/elf.c, the reader of untrusted ELF files; the verbs
# in files of their own, like the importers of tools/import*.c) ride in the archive
# so that the tool, the unit tests and the fuzz targets link them like the core; the
# shim references none of them, so the linker leaves them out of libdialshim.so.
CORE_SRC := $(wildcard common/*.c common/dialer/*.c common/proto/*.c conf/*.c) \
            $(filter-out tools/dialshim%.c tools/supervise%.c,$(wildcard tools/*.c))
SHIM_SRC := $(wildcard shim/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HEADERS  := $(wildcard common/*.h common/dialer/*.h common/proto/*.h conf/*.h shim/*.h tools/*.h)

.PHONY: all deps demo check unit doccheck integration bench install uninstall clean format fuzz layercheck deb debcheck shim-ldflags

all: $(BUILD)/libdialshim.so $(BUILD)/dialshim

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(STACK_FLAGS) -c -o $@ $<

$(BUILD)/deps/lib%.a: shim/exports.map tools/layer.sh
	@mkdir -p $(dir $@)
	sh tools/layer.sh rewrite "$$($(CC) -print-file-name=lib$*.a)" $@

# common/sys_default.o is the one object allowed the libc names: it fills the table
# for the tool and the unit tests and is never linked into the library.
layercheck: $(CORE_OBJ) $(DEP_ARCHIVES) $(BUILD)/libdialshim.so
	@sh tools/layer.sh check $(filter-out %/common/sys_default.o,$(CORE_OBJ)) $(DEP_ARCHIVES)
	@$(if $(SANITIZE),:,sh tools/startcheck.sh $(BUILD)/libdialshim.so)
	@python3 tools/cycles.py

$(BUILD)/libcore.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Lazy binding, not -z now: the library imports about a hundred libc symbols (most
# for c-ares) and binding them all at load was a large part of a small program's
# start under the shim; a program that never touches the network binds almost none.
# -z noseparate-code: headers, code and read-only data in one executable LOAD
# segment instead of three, two mmaps fewer at every start, at the price of
# read-only data being mapped executable.
# -fini=<no such symbol>: no DT_FINI. crti's _fini does nothing, but it lies at the
# end of the code, and calling it at exit faulted in 64 KiB of the library that the
# start never touches (common/state.c keeps the constructor's path at the front).
# -soname: the package puts the library in the multiarch library directory, where
# every shared object must name itself.
# -T shim/start.ld: the data written at every start in as few pages as can be, and
# no .bss (tools/startcheck.sh, run by `make layercheck`, checks the result; not in
# sanitizer builds, whose instrumented data lies where the sanitizer puts it).
# (tests/bench/system.sh links its empty library with SHIM_LDFLAGS too: `make
# shim-ldflags` prints them.)
SHIM_LDFLAGS := -Wl,-z,lazy -Wl,-T,shim/start.ld -Wl,-z,nodelete -Wl,-z,noseparate-code \
                -Wl,-fini=dialshim_no_fini
$(BUILD)/libdialshim.so: $(SHIM_OBJ) $(BUILD)/libcore.a shim/exports.map shim/start.ld $(DEP_ARCHIVES)
	$(CC) $(CFLAGS) -shared -o $@ $(SHIM_OBJ) $(BUILD)/libcore.a \
	    -Wl,--version-script=shim/exports.map -Wl,--exclude-libs,ALL $(SHIM_LDFLAGS) \
	    -Wl,-soname,libdialshim.so $(LDLIBS)

shim-ldflags:
	@echo $(SHIM_LDFLAGS)

# The tool alone carries the seccomp supervisor (tools/supervise*.c, libseccomp): it
# makes the program's calls itself, by their libc names, so it stays out of the archive
# and of the layer check.
TOOL_SRC := $(wildcard tools/dialshim*.c tools/supervise*.c)
TOOL_LIBS := -lseccomp

$(BUILD)/dialshim: $(TOOL_SRC) $(BUILD)/libcore.a $(DEP_ARCHIVES) $(HEADERS)
	$(CC) $(CFLAGS) -o $@ $(TOOL_SRC) $(BUILD)/libcore.a $(LDLIBS) $(TOOL_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcore.a $(DEP_ARCHIVES) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libcore.a $(CHECK_LIBS) $(LDLIBS)

# Small C clients of the integration tests (tests/integration/*.c), one program each.
# Those named lib*.c are preloaded libraries (tests/integration/libearly.c).
PROBE_LIB_SRC := $(wildcard tests/integration/lib*.c)
PROBE_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(filter-out $(PROBE_LIB_SRC),$(wildcard tests/integration/*.c))) \
             $(patsubst tests/integration/%.c,$(BUILD)/tests/%.so,$(PROBE_LIB_SRC))

$(BUILD)/tests/lib%.so: tests/integration/lib%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $< -lpthread

$(BUILD)/tests/%: tests/integration/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lpthread -lresolv

# The seccomp launcher of t_sandbox.sh needs libseccomp (libseccomp-dev).
$(BUILD)/tests/sandbox: tests/integration/sandbox.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lseccomp

deps:
	@sh tools/deps.sh

# Under a sanitizer, a report fails the test that caused it (UBSan recovers otherwise),
# and Check's per-test watchdog (4 s unless a suite sets its own) gets ten times as long:
# instrumented code runs several times slower, and a watchdog is no timing assertion.
SANENV := $(if $(SANITIZE),UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 TSAN_OPTIONS=halt_on_error=1 CK_TIMEOUT_MULTIPLIER=10,)

unit: all $(UNIT_BIN)
	@$(SANENV) sh tests/unit/run.sh $(UNIT_BIN)

# The manual pages against the parser's keys, the tool's verbs and options, and groff.
doccheck: all
	@python3 tests/docs/check_man.py $(BUILD)/dialshim

integration: all $(PROBE_BIN)
	@BUILD='$(BUILD)' sh tests/integration/run.sh $(if $(SANITIZE),$(sort $(wildcard tests/integration/t_stress_*.sh)))

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory layercheck
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory doccheck
	@$(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh

# The installed tool looks for the library at LIBDIR relative to its own bin/
# (when LIBDIR lies under PREFIX), then at LIBDIR itself.
install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PREFIX)/bin
	install -m 0644 $(BUILD)/libdialshim.so $(DESTDIR)$(LIBDIR)/libdialshim.so
	$(CC) $(CFLAGS) $(LDFLAGS) -DDIALSHIM_LIBDIR='"$(LIBDIR)"' \
	    $(if $(filter $(PREFIX)/%,$(LIBDIR)),-DDIALSHIM_LIBDIR_REL='"$(patsubst $(PREFIX)/%,../%,$(LIBDIR))"') \
	    -o $(DESTDIR)$(PREFIX)/bin/dialshim $(TOOL_SRC) $(BUILD)/libcore.a $(LDLIBS) $(TOOL_LIBS)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 man/dialshim.1 $(DESTDIR)$(MANDIR)/man1/dialshim.1
	install -m 0644 man/dialshim.ini.5 $(DESTDIR)$(MANDIR)/man5/dialshim.ini.5

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libdialshim.so $(DESTDIR)$(PREFIX)/bin/dialshim
	rm -f $(DESTDIR)$(MANDIR)/man1/dialshim.1 $(DESTDIR)$(MANDIR)/man5/dialshim.ini.5

# `make fuzz FUZZ_SECONDS=N`: every libFuzzer target tests/fuzz/fuzz_*.c, built by clang
# (with its own copy of the core in build/fuzz/, never mixed with the normal build),
# runs N seconds on a scratch copy of its seed corpus tests/fuzz/corpus/<target>/.
FUZZ_SECONDS ?= 10
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build/fuzz
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -DDIALSHIM_VERSION='"$(VERSION)"' \
                -I. $(DEP_CFLAGS) -fno-omit-frame-pointer \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJ     := $(CORE_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)

$(FUZZ_BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libcore.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_BUILD)/libcore.a $(DEP_ARCHIVES) $(HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libcore.a $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

# `make deb`: the Debian package (debian/: c-ares from the system, CARES=shared;
# objects in build/deb/), built from this tree with dpkg-buildpackage; the .deb,
# .buildinfo and .changes land in build/debs/ (dpkg-buildpackage writes them to
# the parent directory; they are moved from there).
# `make debcheck`: lintian (no error allowed), then the package unpacked into a
# temporary root and used there, in the lab (tests/package/t_deb.sh; root). Not
# part of `make check`: the package build compiles everything again (about a
# minute here) and writes to the parent directory; .ci/run runs it.
debcheck: deb
	lintian --fail-on error build/debs/dialshim_$$(dpkg-parsechangelog -S Version)_$$(dpkg-architecture -qDEB_HOST_ARCH).deb
	@sh tests/integration/run.sh tests/package/t_deb.sh

deb:
	dpkg-buildpackage -us -uc -b
	@mkdir -p build/debs
	@v=$$(dpkg-parsechangelog -S Version); a=$$(dpkg-architecture -qDEB_HOST_ARCH); \
	    for f in ../dialshim_$${v}_$$a.deb ../dialshim-dbgsym_$${v}_$$a.deb \
	        ../dialshim_$${v}_$$a.buildinfo ../dialshim_$${v}_$$a.changes; do \
	        [ -e "$$f" ] && mv -f "$$f" build/debs/; done; \
	    echo "deb: build/debs/dialshim_$${v}_$$a.deb"
