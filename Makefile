# dialshim: `make` builds build/libdialshim.so and build/dialshim.
# `make demo` and `make check` are the README's two commands.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc
VERSION := 0.1.0

# SANITIZE=address,undefined or SANITIZE=thread builds everything instrumented.
SANITIZE ?=
SANFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer,)

DEP_CFLAGS := $(shell pkg-config --cflags libcares inih check 2>/dev/null)
STATIC_LIBS := -Wl,-Bstatic $(shell pkg-config --libs libcares inih 2>/dev/null) -Wl,-Bdynamic
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
          -D_GNU_SOURCE -DDIALSHIM_VERSION='"$(VERSION)"' -I. $(DEP_CFLAGS) $(SANFLAGS)
LDLIBS  := $(STATIC_LIBS) -lpthread -ldl

CORE_SRC := $(wildcard common/*.c common/dialer/*.c common/proto/*.c conf/*.c)
SHIM_SRC := $(wildcard shim/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
SHIM_OBJ := $(SHIM_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HEADERS  := $(wildcard common/*.h common/dialer/*.h common/proto/*.h conf/*.h shim/*.h)

.PHONY: all deps demo check unit integration bench install uninstall clean format

all: $(BUILD)/libdialshim.so $(BUILD)/dialshim

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcore.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libdialshim.so: $(SHIM_OBJ) $(BUILD)/libcore.a shim/exports.map
	$(CC) $(CFLAGS) -shared -o $@ $(SHIM_OBJ) $(BUILD)/libcore.a \
	    -Wl,--version-script=shim/exports.map -Wl,--exclude-libs,ALL -Wl,-z,now \
	    -Wl,-z,nodelete $(LDLIBS)

$(BUILD)/dialshim: tools/dialshim.c $(BUILD)/libcore.a $(HEADERS)
	$(CC) $(CFLAGS) -o $@ tools/dialshim.c $(BUILD)/libcore.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcore.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libcore.a $(CHECK_LIBS) $(LDLIBS)

$(BUILD)/tests/tcpinfo: tests/integration/tcpinfo.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<

deps:
	@sh tools/deps.sh

unit: all $(UNIT_BIN)
	@sh tests/unit/run.sh $(UNIT_BIN)

integration: all $(BUILD)/tests/tcpinfo
	@sh tests/integration/run.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@sh examples/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@sh tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/libdialshim.so $(DESTDIR)$(PREFIX)/lib/libdialshim.so
	$(CC) $(CFLAGS) -DDIALSHIM_LIBDIR='"$(PREFIX)/lib"' -o $(DESTDIR)$(PREFIX)/bin/dialshim \
	    tools/dialshim.c $(BUILD)/libcore.a $(LDLIBS)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libdialshim.so $(DESTDIR)$(PREFIX)/bin/dialshim

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
