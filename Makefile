# qvm: provision libvirt VMs from cloud images on ZFS volumes.

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
# bash-completion's own directory (pkg-config) when installing under its
# prefix (/usr: the Debian package); else PREFIX's, which bash-completion
# searches too (XDG_DATA_DIRS, by default /usr/local/share:/usr/share).
BASHCOMPDIR ?= $(if $(filter $(PREFIX),$(shell $(PKG_CONFIG) --variable=prefix \
	bash-completion 2>/dev/null)),$(shell $(PKG_CONFIG) \
	--variable=completionsdir bash-completion),$(PREFIX)/share/bash-completion/completions)
PKG_CONFIG ?= pkg-config
CC        ?= cc

WARNINGS   = -Wall -Wextra -Werror -Wshadow -Wconversion -Wformat=2 \
             -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
             -Wvla -Wundef -Wcast-qual -Wwrite-strings
# cmocka's macros cast freely; tests keep every warning but -Wconversion.
TEST_WARNINGS = $(filter-out -Wconversion -Wmissing-prototypes,$(WARNINGS))

YAML_CFLAGS   := $(shell $(PKG_CONFIG) --cflags yaml-0.1 2>/dev/null)
YAML_LIBS     := $(shell $(PKG_CONFIG) --libs yaml-0.1 2>/dev/null || echo -lyaml)
# xz and zstd are decoded in qvm's own child (src/decode.c): no pipe
# between the decompressor and the copy (README, Performance).
CODEC_CFLAGS  := $(shell $(PKG_CONFIG) --cflags liblzma libzstd 2>/dev/null)
CODEC_LIBS    := $(shell $(PKG_CONFIG) --libs liblzma libzstd 2>/dev/null || echo -llzma -lzstd)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

CFLAGS    ?= -O2 -g
QVM_CPPFLAGS = -D_GNU_SOURCE -DQVM_VERSION='"$(VERSION)"' -Isrc
QVM_CFLAGS   = -std=c11 -pthread $(WARNINGS) $(YAML_CFLAGS) $(CODEC_CFLAGS) -MMD -MP
LDLIBS    += $(YAML_LIBS) $(CODEC_LIBS) -pthread

SANITIZE  = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all

SRCS      := $(wildcard src/*.c)
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
TEST_SRCS := $(wildcard tests/test_*.c)
SUPPORT_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TESTS     := $(TEST_SRCS:tests/%.c=build/tests/%)
ASAN_TESTS := $(TEST_SRCS:tests/%.c=build/asan/tests/%)

OBJS          = $(SRCS:%.c=build/%.o)
LIB_OBJS      = $(LIB_SRCS:%.c=build/%.o)
SUPPORT_OBJS  = $(SUPPORT_SRCS:%.c=build/%.o)
ASAN_OBJS     = $(SRCS:%.c=build/asan/%.o)
ASAN_LIB_OBJS = $(LIB_SRCS:%.c=build/asan/%.o)
ASAN_SUPPORT_OBJS = $(SUPPORT_SRCS:%.c=build/asan/%.o)

DEBIAN_PACKAGES = build-essential pkg-config libyaml-dev libcmocka-dev \
	liblzma-dev libzstd-dev \
	genisoimage virtinst libvirt-clients libvirt-daemon \
	libvirt-daemon-driver-qemu qemu-utils python3 python3-yaml mandoc \
	valgrind time e2fsprogs clang libclang-rt-14-dev bash-completion \
	openssh-client openssh-server \
	curl xz-utils zstd bzip2
# make deb: to build the Debian package and check it (lintian, man -l).
DEB_PACKAGES = debhelper dpkg-dev lintian man-db
DEMO_PACKAGES = debootstrap qemu-system-x86 libvirt-daemon-system ovmf \
	fdisk dosfstools mtools grub-efi-amd64-bin

.PHONY: all check unit unit-asan integration integration-asan valgrind \
	lint deps demo bench fuzz fuzz-smoke install uninstall deb clean check-zfs

all: qvm

# Keep test objects between runs.
.SECONDARY:

qvm: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

build/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(QVM_CPPFLAGS) $(CPPFLAGS) $(QVM_CFLAGS) $(CFLAGS) -c -o $@ $<

build/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(QVM_CPPFLAGS) $(CPPFLAGS) -std=c11 $(TEST_WARNINGS) \
		$(YAML_CFLAGS) $(CMOCKA_CFLAGS) -MMD -MP $(CFLAGS) -c -o $@ $<

build/tests/test_%: build/tests/test_%.o $(LIB_OBJS) $(SUPPORT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# The same, built with AddressSanitizer and UndefinedBehaviorSanitizer.
build/asan/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(QVM_CPPFLAGS) $(CPPFLAGS) $(QVM_CFLAGS) -O1 -g $(SANITIZE) \
		-c -o $@ $<

build/asan/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(QVM_CPPFLAGS) $(CPPFLAGS) -std=c11 $(TEST_WARNINGS) \
		$(YAML_CFLAGS) $(CMOCKA_CFLAGS) -MMD -MP -O1 -g $(SANITIZE) \
		-c -o $@ $<

build/asan/tests/test_%: build/asan/tests/test_%.o $(ASAN_LIB_OBJS) \
		$(ASAN_SUPPORT_OBJS)
	$(CC) $(SANITIZE) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

build/asan/qvm: $(ASAN_OBJS)
	$(CC) $(SANITIZE) -o $@ $(ASAN_OBJS) $(LDLIBS)

# check: the man page lint; every unit test, plain and sanitized; a short
# fuzzing smoke run; the integration tests against ./qvm and against the
# sanitized qvm. CI also runs "make valgrind" (everything under valgrind).
check: lint unit unit-asan fuzz-smoke integration integration-asan

unit: $(TESTS)
	@sh tests/run-unit.sh $(TESTS)

unit-asan: $(ASAN_TESTS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1 sh tests/run-unit.sh $(ASAN_TESTS)

integration: qvm
	@QVM=$(CURDIR)/qvm bash tests/integration/run.sh

integration-asan: build/asan/qvm
	@QVM=$(CURDIR)/build/asan/qvm ASAN_OPTIONS=detect_leaks=1 \
	 SKIP_TESTS="test_zfs_double test_transcripts" bash tests/integration/run.sh

valgrind: $(TESTS) qvm
	@VALGRIND="valgrind -q --error-exitcode=99 --leak-check=full \
	 --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect" \
	 sh tests/run-unit.sh $(TESTS)
	@QVM=$(CURDIR)/qvm QVM_WRAP="valgrind -q --error-exitcode=99 \
	 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
	 SKIP_TESTS="test_zfs_double test_transcripts" bash tests/integration/run.sh

lint:
	@mandoc -Tlint -W warning qvm.1 && echo "qvm.1: mandoc -Tlint clean"

# Debian packages to build and test qvm (run as root; a no-op when present).
deps:
	@sh tests/deps.sh $(DEBIAN_PACKAGES)

# A real VM: build a small Debian guest once (cached), import it, boot it
# under QEMU through libvirt, and wait for its cloud-init marker.
# The packages come first: on a fresh host qvm cannot be built before.
demo:
	@sh tests/deps.sh $(DEBIAN_PACKAGES) $(DEMO_PACKAGES)
	@$(MAKE) --no-print-directory qvm
	@bash tests/demo/demo.sh

# qvm against real OpenZFS, in a QEMU (TCG) guest built once and cached in
# /var/cache/qvm-zfs: the real-ZFS suite, and transcripts of real zfs that
# tests/integration/test_transcripts.sh replays against the double.
# ZFS_VERSION: 2.1.11 (bookworm) or 2.3 (bookworm-backports).
ZFS_VERSION ?= 2.1.11
check-zfs:
	@sh tests/deps.sh $(DEBIAN_PACKAGES) debootstrap qemu-system-x86
	@$(MAKE) --no-print-directory qvm
	@ZFS_VERSION=$(ZFS_VERSION) bash tests/zfs-real/check-zfs.sh

# Coverage-guided fuzzing of the qvm-file parser and argv builder (clang,
# libFuzzer); FUZZ_SECONDS bounds the run. check runs a short smoke of it.
FUZZ_SECONDS ?= 60
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run.sh

fuzz-smoke:
	@FUZZ_SECONDS=10 bash tests/fuzz/run.sh

# Import speed against dd and qemu-img, and qvm's own overhead per VM;
# then compressed images streamed against their decompressors. Only the
# latter: make bench BENCH_ONLY=compressed.
bench:
	@sh tests/deps.sh $(DEBIAN_PACKAGES)
	@$(MAKE) --no-print-directory qvm
	@$(if $(filter compressed,$(BENCH_ONLY)),,bash tests/bench/bench.sh)
	@bash tests/bench/compressed.sh

install: qvm
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 qvm $(DESTDIR)$(BINDIR)/qvm
	install -m 0644 qvm.1 $(DESTDIR)$(MANDIR)/man1/qvm.1
	install -m 0644 src/qvm.bash-completion $(DESTDIR)$(BASHCOMPDIR)/qvm

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qvm $(DESTDIR)$(MANDIR)/man1/qvm.1 \
		$(DESTDIR)$(BASHCOMPDIR)/qvm

# The Debian package (debian/), built from a copy of the tree in
# build/deb/ (dpkg-buildpackage cleans, and writes next to its tree):
# build/deb/qvm_VERSION_ARCH.deb, then lintian (no errors, no warnings) and
# tests/deb-check.sh on it. DEB_BUILD_OPTIONS=nocheck skips the package's
# own "make check" (and builds with the nocheck profile: no test tools).
DEB_ARCH = $(shell dpkg --print-architecture 2>/dev/null)
deb:
	@sh tests/deps.sh $(DEB_PACKAGES)
	rm -rf build/deb
	mkdir -p build/deb/qvm-$(VERSION)
	tar -c --exclude=./build --exclude=./qvm --exclude=./.git \
		--exclude=./bench/cache . | tar -x -C build/deb/qvm-$(VERSION)
	cd build/deb/qvm-$(VERSION) && dpkg-buildpackage -us -uc -b \
		$(if $(filter nocheck,$(DEB_BUILD_OPTIONS)),-Pnocheck)
	lintian --fail-on error,warning \
		build/deb/qvm_$(VERSION)_$(DEB_ARCH).changes
	bash tests/deb-check.sh build/deb/qvm_$(VERSION)_$(DEB_ARCH).deb $(VERSION)
	@echo "deb: build/deb/qvm_$(VERSION)_$(DEB_ARCH).deb"

clean:
	rm -rf build qvm

-include $(shell find build -name '*.d' 2>/dev/null)
