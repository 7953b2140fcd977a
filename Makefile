# zcluster: one GNU Makefile, no configure step.
#
#   make                 build everything into build/
#   make check           build and run every test (ends "N passed, N failed")
#   make demo            run the bundled example fleet on 127.0.0.1:8080
#   make install PREFIX=/some/dir
#   make SANITIZE=1 check   the same tests under ASan + UBSan (build-san/)

CC ?= cc
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
DESTDIR ?=
OPT ?= -O2 -g

# The tool is linked statically by default: one file to copy anywhere, and
# a primary whose RSS is what it touches (about 0.9 MiB) rather than every
# page of the shared libc it faults in (about 1.8 MiB; see bench/README.md).
# STATIC=0 links it dynamically. The sanitizers cannot link statically.
STATIC ?= 1

ifeq ($(SANITIZE),1)
BUILD ?= build-san
OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
STATIC := 0
else
BUILD ?= build
SANFLAGS :=
endif
# SHARED_TOOLS=1 links the tools against libzcluster.so, as a distribution
# ships them beside the library package (debian/rules).
SHARED_TOOLS ?= 0
ifeq ($(SHARED_TOOLS),1)
STATIC := 0
endif
TOOL_LDFLAGS := $(if $(filter 1,$(STATIC)),-static,)

# "CC file" lines instead of whole commands; V=1 shows the commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wwrite-strings
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(SANFLAGS) \
              -fvisibility=hidden -fPIC -Iinclude -Isrc $(CPPFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)
LIBS := -lm

# The metrics endpoint uses libmicrohttpd. libzcluster.so links the shared
# library; our programs link its archive with src/base/notls.c standing in for
# GnuTLS, which the endpoint never uses and whose start-up alone would
# triple the primary's memory (src/base/notls.c says more).
MHD_A := $(shell $(CC) -print-file-name=libmicrohttpd.a)
PROG_LIBS := $(MHD_A) $(BUILD)/src/base/notls.o

# The library, layer by layer (docs/architecture.md); src/base/notls.c
# is not part of it (see above).
LAYERS := base proto metrics worker client primary
LIB_SRCS := $(filter-out src/base/notls.c,$(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c src/$(l)/*/*.c)))
LIB_HDRS := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.h src/$(l)/*/*.h))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_SRCS := $(wildcard tests/*.c tests/unit/*.c tests/integration/*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)

PROGS := $(BUILD)/zcluster $(BUILD)/zclusterctl $(BUILD)/zcluster-hello
# Other images of the tool, for the upgrade tests (test-upgrade.c).
UPGRADE_IMAGES := $(BUILD)/tests/zcluster-b $(BUILD)/tests/zcluster-v99 \
                  $(BUILD)/tests/zcluster-lies
ALL := $(BUILD)/libzcluster.a $(BUILD)/libzcluster.so $(PROGS) \
       $(BUILD)/zcluster-shared $(BUILD)/zcluster-counter $(BUILD)/test-runner \
       $(UPGRADE_IMAGES)

.PHONY: all check demo install clean deps fuzz layers abi bench
all: $(ALL)

$(BUILD)/%.o: %.c include/zcluster.h $(LIB_HDRS) $(wildcard tests/*.h) Makefile
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(TEST_OBJS): CFLAGS_ALL += -Itests -DZC_TEST_SEAMS

# The test runner's own spawn.c, with the seams that make a fork fail on
# demand; the library has none. Linked before the archive, it is the one
# zc__spawn the runner uses (the archive's spawn.o is then never pulled).
$(BUILD)/tests/seams/spawn.o: src/base/spawn.c $(LIB_HDRS) Makefile
	@mkdir -p $(dir $@)
	$(call say,CC,$< [seams])
	$(Q)$(CC) $(CFLAGS_ALL) -DZC_TEST_SEAMS -c $< -o $@

$(BUILD)/libzcluster.a: $(LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/libzcluster.so: $(LIB_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libzcluster.so.0 $(LDFLAGS_ALL) -o $@ $^ $(LIBS) -lmicrohttpd
	$(Q)ln -sf libzcluster.so $@.0

# The tool and the examples link the static library: one self-contained
# binary each, nothing to set up at run time. With SHARED_TOOLS=1 the
# installed ones link libzcluster.so.0 instead.
ifeq ($(SHARED_TOOLS),1)
TOOL_DEPS := $(BUILD)/libzcluster.so
TOOL_LINK = $< -L$(BUILD) -lzcluster $(LIBS)
else
TOOL_DEPS := $(BUILD)/libzcluster.a $(BUILD)/src/base/notls.o
TOOL_LINK = $(filter-out %/notls.o,$^) $(LIBS) $(PROG_LIBS)
endif

$(BUILD)/zcluster: $(BUILD)/tools/zcluster.o $(TOOL_DEPS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $(TOOL_LDFLAGS) -o $@ $(TOOL_LINK)

$(BUILD)/zclusterctl: $(BUILD)/tools/zclusterctl.o $(TOOL_DEPS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) $(TOOL_LDFLAGS) -o $@ $(TOOL_LINK)

# The same tool against libzcluster.so: it uses the public header only, so
# it links either way (tests/integration/test-cli.c runs both).
$(BUILD)/zcluster-shared: $(BUILD)/tools/zcluster.o $(BUILD)/libzcluster.so
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< -L$(BUILD) -lzcluster -Wl,-rpath,'$$ORIGIN'

# The upgrade tests' other images: the tool with the files that say its
# version, or its state's, compiled again (linked before the archive, they
# are the ones used): b is another version; v99 writes and reads only a
# state version 99, so it refuses ours at the preflight; lies says at the
# preflight that it reads ours, and refuses it once executed (those two
# link the tool's own main).
UPGRADE_ALT_b := src/primary/control/status.c \
                 src/primary/control/upgradectl.c src/primary/loop/handover.c \
                 src/primary/loop/takeover.c src/primary/loop/upgrade.c \
                 tools/zcluster.c
UPGRADE_ALT_v99 := src/proto/state.c src/primary/loop/takeover.c \
                   src/primary/loop/upgrade.c
UPGRADE_ALT_lies := $(UPGRADE_ALT_v99)
UPGRADE_TOOL_v99 := $(BUILD)/tools/zcluster.o
UPGRADE_TOOL_lies := $(UPGRADE_TOOL_v99)
ALT_b := -DZC_VERSION='"0.4.0+b"'
ALT_v99 := -DZC__STATE_VERSION=99 -DZC__STATE_MIN=99
ALT_lies := $(ALT_v99) -DZC_TEST_PREFLIGHT_PASSES
define upgrade_image
$(BUILD)/tests/alt-$(1)/%.o: %.c include/zcluster.h $(LIB_HDRS) Makefile
	@mkdir -p $$(dir $$@)
	$$(call say,CC-$(1),$$<)
	$$(Q)$$(CC) $$(CFLAGS_ALL) $$(ALT_$(1)) -c $$< -o $$@
$(BUILD)/tests/zcluster-$(1): $(UPGRADE_ALT_$(1):%.c=$(BUILD)/tests/alt-$(1)/%.o) $(UPGRADE_TOOL_$(1)) $(BUILD)/libzcluster.a $(BUILD)/src/base/notls.o
	$$(call say,LD,$$@)
	$$(Q)$$(CC) $$(LDFLAGS_ALL) $$(TOOL_LDFLAGS) -o $$@ $$(filter-out %/notls.o,$$^) $$(LIBS) $$(PROG_LIBS)
endef
$(foreach v,b v99 lies,$(eval $(call upgrade_image,$(v))))

$(BUILD)/zcluster-hello: $(BUILD)/examples/hello.o $(TOOL_DEPS)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(TOOL_LINK)

$(BUILD)/zcluster-counter: $(BUILD)/examples/counter.o $(BUILD)/libzcluster.a $(BUILD)/src/base/notls.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter-out %/notls.o,$^) $(LIBS) $(PROG_LIBS)

$(BUILD)/test-runner: $(TEST_OBJS) $(BUILD)/tests/seams/spawn.o $(BUILD)/libzcluster.a $(BUILD)/src/base/notls.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter-out %/notls.o,$^) $(LIBS) $(PROG_LIBS)

# The bench programs (bench/*.sh run them), built like the tools and
# linked like them, so a change to the link cannot break them unseen: CI
# builds them with every compiler.
BENCH_PROGS := $(BUILD)/bench/ipc $(BUILD)/bench/metrics \
               $(BUILD)/bench/pingpong $(BUILD)/bench/respawn \
               $(BUILD)/bench/dispatch $(BUILD)/bench/writer
bench: $(BENCH_PROGS)

$(BUILD)/bench/ipc $(BUILD)/bench/metrics $(BUILD)/bench/dispatch: $(BUILD)/bench/%: $(BUILD)/bench/%.o $(BUILD)/libzcluster.a $(BUILD)/src/base/notls.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libzcluster.a $(LIBS) $(PROG_LIBS) -lpthread

$(BUILD)/bench/pingpong $(BUILD)/bench/respawn $(BUILD)/bench/writer: $(BUILD)/bench/%: $(BUILD)/bench/%.o
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $<

# libFuzzer targets (clang only): the parsers, and the IPC frame decoder.
# CI runs each for a bounded time:
#   build-fuzz/fuzz-frames -max_total_time=N NEW tests/fuzz/corpus-frames
FUZZERS := build-fuzz/fuzz-parsers build-fuzz/fuzz-frames build-fuzz/fuzz-text \
           build-fuzz/fuzz-region build-fuzz/fuzz-handoff build-fuzz/fuzz-control \
           build-fuzz/fuzz-node build-fuzz/fuzz-output \
           build-fuzz/fuzz-config build-fuzz/fuzz-state
fuzz: $(FUZZERS)

# The library is compiled once for all of them (instrumented, not linked
# with libFuzzer's main), each target only links its own entry point.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -Iinclude -Isrc \
               -fno-sanitize-recover=all
FUZZ_OBJS := $(patsubst %.c,build-fuzz/obj/%.o,$(LIB_SRCS))
.SECONDARY: $(FUZZ_OBJS)

build-fuzz/obj/%.o: %.c include/zcluster.h $(LIB_HDRS) Makefile
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_OBJS)
	$(call say,FUZZ,$@)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(FUZZ_OBJS) -lmicrohttpd

# Debian packages the build and the tests need (scripts/deps.sh installs
# them as root, or says what to install).
deps:
	@scripts/deps.sh build

# The tree's shape: layers include downwards, no call cycle between
# files, no file over 800 lines (scripts/layers.sh, docs/architecture.md).
layers: all
	@scripts/layers.sh $(BUILD)

# A program built against an older, smaller zc_options runs against this
# library (scripts/abi-check.sh, docs/library.md "ABI").
abi: all
	@scripts/abi-check.sh $(BUILD) "$(CC)" $(SANFLAGS)

check: deps all layers abi bench
	ZC_BUILD=$(BUILD) $(BUILD)/test-runner $(TESTS)

demo: deps all
	scripts/demo.sh $(BUILD)

# The library, its header and pkg-config file, the tools and their pages;
# not the tests. LIBDIR: /usr/lib/x86_64-linux-gnu for a distribution.
INSTALLED := $(BUILD)/libzcluster.a $(BUILD)/libzcluster.so $(PROGS)
install: $(INSTALLED)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(BUILD)/libzcluster.a $(DESTDIR)$(LIBDIR)/
	install -m 644 $(BUILD)/libzcluster.so $(DESTDIR)$(LIBDIR)/libzcluster.so.0
	ln -sf libzcluster.so.0 $(DESTDIR)$(LIBDIR)/libzcluster.so
	# Written here, so that it names the prefix it is installed under.
	printf 'prefix=%s\nlibdir=%s\nincludedir=$${prefix}/include\n\nName: zcluster\nDescription: run a network server as a fleet of worker processes\nVersion: %s\nLibs: -L$${libdir} -lzcluster\nLibs.private: -lmicrohttpd -lm\nCflags: -I$${includedir}\n' \
	    '$(PREFIX)' '$(LIBDIR)' "$$(sed -n 's/^#define ZC_VERSION "\(.*\)"/\1/p' include/zcluster.h)" \
	    > $(DESTDIR)$(LIBDIR)/pkgconfig/zcluster.pc
	install -m 644 include/zcluster.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 docs/zcluster.1 docs/zclusterctl.1 docs/zcluster-hello.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man1/

clean:
	rm -rf build build-san build-clang build-vg build-dyn build-fuzz bench/out
