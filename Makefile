# SPDX-License-Identifier: GPL-2.0
#
# stw: build the module and the tools, install them, and run them in a QEMU
# guest. See README.md; `make help` lists the targets.

VERSION    := $(shell cat $(CURDIR)/VERSION)
BUILD      ?= $(CURDIR)/build
CACHE      := $(BUILD)/cache
# The guest kernel.  KERNEL=6.1 (the default) is the one linux-headers-amd64
# builds against.  The others (6.12, 6.12-rt: Debian's; debug: 6.1 with
# KASAN, lockdep, kmemleak...) are fetched or built by scripts/kernels/get.sh
# (their table) into $(CACHE)/kernel-$(KERNEL)/, with vmlinuz and build (the
# KDIR); their module is built in a copy of the sources, $(MODDIR), so that
# module/ keeps the default kernel's build; and they run in their own guest
# directory.
KERNEL     ?= 6.1
ifeq ($(KERNEL),6.1)
# Looked up when first used, not when this file is read: `make demo` on a
# machine without kernel headers installs them (make deps) before any
# recipe asks for GUEST_KDIR.
GUEST_KVER  = $(eval GUEST_KVER := $(shell cat $(CACHE)/kernel/version \
		2>/dev/null || dpkg-query -W -f='$${Depends}' \
		linux-headers-amd64 2>/dev/null | \
		sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p'))$(GUEST_KVER)
GUEST_KDIR  = $(if $(GUEST_KVER),/usr/src/linux-headers-$(GUEST_KVER))
MODDIR     := $(CURDIR)
else
GUEST_KDIR := $(CACHE)/kernel-$(KERNEL)/build
MODDIR     := $(BUILD)/kmod-$(KERNEL)
# For scripts/qemu/run.sh, from here and from scripts/check-mutants.sh.
export STW_VM_KERNEL := $(CACHE)/kernel-$(KERNEL)/vmlinuz
export STW_VM_DIR ?= $(BUILD)/guest-$(KERNEL)
export STW_KO ?= $(MODDIR)/module/stw.ko
endif
# On a real machine build for the running kernel; else for the guest's.
KDIR       ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build/Makefile),\
		/lib/modules/$(shell uname -r)/build,$(GUEST_KDIR))
# The release of the kernel in KDIR (its `uname -r`): where `make install`
# puts the module.  Debian's headers have their own version in
# include/config/kernel.release; utsrelease.h has the kernel's.
KVER        = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
KSFT_DIR   := $(CACHE)/kselftest
# The project's own builds (the guest's, CI's) treat warnings as errors;
# `make` for an install and DKMS builds do not, so that a newer compiler's
# new warning does not stop a user's build.  STW_WERROR=1 turns it on.
STW_WERROR ?= 0
KBUILD_ARGS = STW_WERROR=$(STW_WERROR)
# Guest time limit in seconds, and QEMU accelerator (tcg; kvm on request).
ifeq ($(KERNEL),debug)
TIMEOUT    ?= 5400
# KASAN breaks its PVH entry: QEMU boots its bzImage (see debug.config).
export STW_VM_BZIMAGE := 1
endif
TIMEOUT    ?= 900
ACCEL      ?= tcg
RUN_VM      = scripts/qemu/run.sh --build $(BUILD) --accel $(ACCEL) \
		--timeout $(TIMEOUT)

# Installation (make install; DESTDIR for a staged install).
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(if $(filter /usr,$(PREFIX)),/usr/share,$(PREFIX)/share)/bash-completion/completions
# updates/ wins over a module of the same name shipped with the kernel.
INSTALL_MOD_DIR ?= updates
MODULE_DEST = $(DESTDIR)/lib/modules/$(KVER)/$(INSTALL_MOD_DIR)
DKMS_SRC    = $(DESTDIR)/usr/src/stw-$(VERSION)
MANPAGES   := Documentation/stwctl.8 Documentation/stw.4

.PHONY: all module examples stwctl selftests deps guest vm demo check bench bench-goals \
	clean help checkpatch check-mutants mutants-unarmed check-debug stress \
	explore check-explore \
	fuzz install install-module install-tools uninstall install-dkms-src \
	check-host check-kdir

# `make`: the module (with the example client module) and stwctl; nothing
# but a compiler, kernel headers and libnl needed.  The selftests are their
# own target.
all: module examples stwctl

check-kdir:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "stw: no kernel headers at '$(KDIR)'." >&2; \
		echo "  Install them (apt-get install linux-headers-$$(uname -r)," \
		     "or linux-headers-amd64), run 'make deps', or set KDIR=." >&2; \
		exit 1; \
	fi

module: check-kdir
ifneq ($(MODDIR),$(CURDIR))
	scripts/kernels/copy-src.sh $(MODDIR) $(BUILD)
endif
	$(MAKE) -C $(KDIR) M=$(MODDIR) $(KBUILD_ARGS) modules

# The example client module, built the way an outside module is: against
# stw's Module.symvers (KBUILD_EXTRA_SYMBOLS) and its tree (include path).
examples: module
	$(MAKE) -C examples KDIR=$(KDIR) STW_DIR=$(MODDIR) \
		OUT=$(MODDIR)/examples $(KBUILD_ARGS)

stwctl:
	$(MAKE) -C tools/stwctl

# The kselftest harness headers come from the kernel source (make deps).
selftests:
	@[ -s $(KSFT_DIR)/kselftest_harness.h ] || scripts/deps.sh $(BUILD)
	$(MAKE) -C selftests KSFT_DIR=$(KSFT_DIR)

deps:
	@scripts/deps.sh $(BUILD)
ifneq ($(KERNEL),6.1)
	@scripts/kernels/get.sh $(KERNEL) $(BUILD)
endif

# Everything the guest needs, built for the guest's kernel, warnings as
# errors.  GUEST_KDIR is expanded here, after deps installed the headers.
guest: deps
	$(MAKE) KDIR=$(GUEST_KDIR) STW_WERROR=1 all selftests

vm: guest
ifneq ($(SCRIPT),)
	$(RUN_VM) --script $(SCRIPT)
else
	$(RUN_VM) --cmd '$(or $(CMD),stwctl status)'
endif

demo: guest
	$(RUN_VM) --script scripts/demo.sh

check: guest
ifeq ($(KERNEL),debug)
	$(RUN_VM) --script scripts/kernels/guest-check-debug.sh
else
	$(RUN_VM) --script selftests/run_tests.sh
endif

# Host-side checks: install, DKMS, Debian packages, man pages, completion,
# the selftests in a kernel tree (scripts/check-host.sh; as root).
check-host:
	scripts/check-host.sh $(BUILD)

install: install-module install-tools

install-module: module
	install -d $(MODULE_DEST)
	install -m 644 $(MODDIR)/module/stw.ko $(MODULE_DEST)/stw.ko
ifeq ($(DESTDIR),)
	depmod -a $(KVER)
endif

# stwctl, its man pages, stw(4) and the bash completion.
install-tools: stwctl
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man4 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 tools/stwctl/stwctl $(DESTDIR)$(SBINDIR)/stwctl
	install -m 644 Documentation/stwctl.8 $(DESTDIR)$(MANDIR)/man8/stwctl.8
	install -m 644 Documentation/stw.4 $(DESTDIR)$(MANDIR)/man4/stw.4
	install -m 644 completion/stwctl.bash $(DESTDIR)$(BASHCOMPDIR)/stwctl

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/stwctl $(DESTDIR)$(MANDIR)/man8/stwctl.8 \
		$(DESTDIR)$(MANDIR)/man4/stw.4 $(DESTDIR)$(BASHCOMPDIR)/stwctl
	@if [ -n "$(KVER)" ]; then \
		echo rm -f $(MODULE_DEST)/stw.ko; rm -f $(MODULE_DEST)/stw.ko; \
		if [ -z "$(DESTDIR)" ]; then echo depmod -a $(KVER); \
			depmod -a $(KVER); fi; \
	fi

# The sources DKMS builds from: /usr/src/stw-VERSION (debian/rules, and
# scripts/check-host.sh's dkms test).
install-dkms-src:
	install -d $(DKMS_SRC)/module $(DKMS_SRC)/uapi
	install -m 644 dkms.conf LICENSE $(DKMS_SRC)/
	install -m 644 module/Kbuild $(filter-out %.mod.c,$(wildcard module/*.c)) \
		module/*.h $(DKMS_SRC)/module/
	install -m 644 uapi/*.h $(DKMS_SRC)/uapi/

# stw against a raw barrier and kthread_park(), in the guest (~10 min of
# TCG): a table, build/bench/bench.csv and build/bench/bench.png.
bench: guest
	$(MAKE) -C bench
	scripts/bench-host.sh $(BUILD) $(ACCEL)

# Only the rows the performance goals are stated on, RUNS times in one boot
# (~3 min a run): each ratio per run, its median and its range.
RUNS ?= 5
bench-goals: guest
	$(MAKE) -C bench
	STW_VM_APPEND="stwbench.runs=$(RUNS)" BENCH_GOALS=1 \
		scripts/bench-host.sh $(BUILD) $(ACCEL)

# The suite on the debug kernel, then a kmemleak scan (see
# scripts/kernels/guest-check-debug.sh); builds the kernel the first time.
check-debug:
	@start=$$(date +%s); $(MAKE) --no-print-directory check KERNEL=debug; \
	rc=$$?; echo "check-debug: $$(($$(date +%s) - start)) s; kernel build:" \
		"$$(tail -n 1 $(CACHE)/kernel-debug/build.log)"; exit $$rc

# Controllers stop, step and resume at once while VMs come and go: COUNT
# stop requests (default 10000, ~70 s of TCG; COUNT=100000 is a soak of
# ~10 min), SEED for another interleaving.
stress: TIMEOUT = $(shell echo $$((600 + $(or $(COUNT),10000) / 10)))
stress: guest
	$(RUN_VM) --cmd 'STW_STRESS_CYCLES=$(or $(COUNT),10000) STW_STRESS_SEED=$(or $(SEED),1) /stw/selftests/stress_test'

# Random and malformed netlink messages, as root and as nobody: COUNT
# each (default 100000: ~2.5 min of TCG as root, seconds as nobody; make
# check runs 25000), SEED for another stream.
fuzz: TIMEOUT = $(shell echo $$((600 + $(or $(COUNT),100000) / 100)))
fuzz: guest
	$(RUN_VM) --cmd 'STW_FUZZ_COUNT=$(or $(COUNT),100000) STW_FUZZ_SEED=$(or $(SEED),1) /stw/selftests/fuzz_test'

# Each race test passes on the real build and fails on its mutant.
check-mutants: guest
	scripts/check-mutants.sh $(BUILD) $(GUEST_KDIR) $(RACES)

# How often each race's bug shows on its mutant with no probe armed.
mutants-unarmed: guest
	UNARMED=$(or $(RUNS),50) scripts/check-mutants.sh $(BUILD) \
		$(GUEST_KDIR) $(RACES)

# The systematic scheduler (selftests/explore.c): every schedule of every
# configuration within the preemption bound (BOUND, default 2; CONFIG= for
# one; REPLAY= the choices a failure printed, with CONFIG; FROM= the
# choices a stopped run said to go on from, with CONFIG and its BOUND and
# ARGS; UNTIL= such choices: stop before that schedule, so that two runs,
# one with UNTIL=C and one with FROM=C, share one enumeration between two
# guests; STATES= with FROM, that run's output saved, for the states it
# noted; ARGS= more of its options, -P: no pruning of states explored
# already; SMP= the guest's CPUs, default 2: SMP=1 for the long runs, see
# scripts/qemu/run.sh).
explore: TIMEOUT = 3600
explore: guest
	$(if $(SMP),STW_VM_SMP=$(SMP) )$(if $(STATES),STW_VM_EXTRA='$(abspath $(STATES))' )$(RUN_VM) --cmd '/stw/selftests/explore -b $(or $(BOUND),2)$(if $(CONFIG), -c $(CONFIG))$(if $(REPLAY), -r $(REPLAY))$(if $(FROM), -R $(FROM))$(if $(UNTIL), -U $(UNTIL))$(if $(STATES), -S $(abspath $(STATES)))$(if $(ARGS), $(ARGS))'

# explore on the real build and on mutants 1-12 (MUTANTS=), with no hint of
# the race: the table of schedules, states, places, time and schedules
# until each mutant is found. BOUND=1 by default; LIMIT= schedules per configuration
# (MUTANT_LIMIT= for the mutants, default LIMIT); MUTANTS=1,2,3 (or "1 2 3");
# MUTANT_BOUND=2: a mutant not found at BOUND is tried at the next bound,
# up to this one, and mutant 13 is in the default list.
check-explore: guest
	BOUND=$(BOUND) LIMIT=$(LIMIT) MUTANT_LIMIT=$(MUTANT_LIMIT) \
		MUTANT_BOUND=$(MUTANT_BOUND) \
		scripts/check-explore.sh $(BUILD) \
		$(GUEST_KDIR) $(MUTANTS)

# trace.h keeps the TRACE_EVENT layout that --strict objects to, as
# mainline's trace headers do; stw.h's stw_vm_wait_event() evaluates its
# condition at every wake-up, as wait_event() does.
CHECKPATCH = $(CACHE)/checkpatch/checkpatch.pl --no-tree --terse \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG
checkpatch: deps
	$(CHECKPATCH) --strict -f $(filter-out module/trace.h module/stw.h \
		%.mod.c,$(wildcard module/*.c module/*.h uapi/*.h))
	$(CHECKPATCH) -f module/trace.h
	$(CHECKPATCH) --strict --ignore MACRO_ARG_REUSE -f module/stw.h

clean:
	-[ ! -f "$(KDIR)/Makefile" ] || $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-[ ! -f "$(KDIR)/Makefile" ] || $(MAKE) -C examples KDIR=$(KDIR) clean
	$(MAKE) -C tools/stwctl clean
	$(MAKE) -C selftests clean
	$(MAKE) -C lib clean

help:
	@echo 'make             build module/stw.ko, examples/*.ko, tools/stwctl/stwctl'
	@echo 'make selftests   build the selftests (fetches the kselftest headers)'
	@echo 'make install     install stw.ko (+ depmod), stwctl, man pages, completion'
	@echo 'make uninstall   remove them'
	@echo 'make deps        install build and test dependencies (Debian 12)'
	@echo 'make demo        boot the guest and show a stop, a step and a resume'
	@echo 'make check       run the selftests in the guest'
	@echo 'make check-host  host-side checks: install, DKMS, .debs, docs (as root)'
	@echo "make vm CMD='stwctl status'   run a command in the guest"
	@echo 'make vm SCRIPT=path/to/script run a script in the guest'
	@echo 'make check-mutants  show each race test fails on its mutant (RACES=)'
	@echo 'make explore     enumerate interleavings over the probe points (BOUND= CONFIG=)'
	@echo 'make check-explore  explore finds every mutant unaided (MUTANTS= BOUND= MUTANT_BOUND=)'
	@echo 'make checkpatch  run the kernel style checker on module/ and uapi/'
	@echo 'make check-debug run them on a 6.1 kernel with KASAN, lockdep, kmemleak...'
	@echo 'make check-kcsan the suite and a stress run on a 6.1 kernel with KCSAN'
	@echo 'make check-asan  the suite with selftests and stwctl under ASan/UBSan'
	@echo 'make valgrind    fuzz and stress tests under valgrind, in the guest'
	@echo 'make soak        stress and fuzz, 100000 each, on the debug kernel'
	@echo 'make check-ynl   the YNL spec: schema, constants = uapi, cli.py in the guest'
	@echo 'make bench       stw against a raw barrier and kthread_park(): table, CSV, plot'
	@echo 'make bench-goals the rows the performance goals are on, RUNS times (default 5)'
	@echo 'variables: KDIR (kernel build dir), TIMEOUT (s), ACCEL (tcg|kvm),'
	@echo '  KERNEL (guest kernel: 6.1 (default), 6.12, 6.12-rt, debug, kcsan),'
	@echo '  STW_WERROR=1 (warnings are errors), DESTDIR, PREFIX (/usr/local)'

# ---------------------------------------------------------------------------
# CI stages and checkers (.ci/run runs check-mutants, check, check-asan, the
# 6.12 and 6.12-rt checks, check-debug and check-kcsan; valgrind and soak
# are run by hand).

.PHONY: check-kcsan check-asan asan valgrind soak

# KERNEL=kcsan: 6.1 with KCSAN (scripts/kernels/kcsan.config), booted as a
# bzImage like the debug kernel; stw.ko gets debug info so that
# scripts/qemu/kcsan.sh can give its reports' file:line.
ifeq ($(KERNEL),kcsan)
export STW_VM_BZIMAGE := 1
export KCFLAGS += -g
endif

# The suite, then `make stress COUNT=2000`, on the KCSAN kernel (built the
# first time, ~8 min on two cores).  A KCSAN report of an access stw made
# fails either run; one inside kernel code stw only called, or in other
# kernel code, is listed (see scripts/qemu/kcsan.sh; KCSAN_STW_FAIL=0 to
# list stw's without failing).
check-kcsan:
	@start=$$(date +%s); rc=0; \
	$(MAKE) --no-print-directory check KERNEL=kcsan \
		$(if $(filter command,$(origin TIMEOUT)),,TIMEOUT=3600) || rc=1; \
	$(MAKE) --no-print-directory stress KERNEL=kcsan \
		STW_VM_DIR=$(BUILD)/guest-kcsan-stress \
		COUNT=$(or $(COUNT),2000) || rc=1; \
	echo "check-kcsan: $$(($$(date +%s) - start)) s; kernel build:" \
		"$$(tail -n 1 $(CACHE)/kernel-kcsan/build.log)"; exit $$rc

# The selftests and stwctl built with AddressSanitizer and UBSan, in a copy
# of the sources ($(ASAN_DIR): module/ and tools/ keep the plain build), and
# the suite run with them on the default kernel.  Any sanitizer report, in
# a test or in an stwctl a test runs, fails the run
# (scripts/guest-sanitizers.sh).
ASAN_DIR := $(BUILD)/asan
ASAN_CC  := gcc -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
asan:
	@scripts/copy-tree.sh $(ASAN_DIR)
	@echo '$(ASAN_CC)' | cmp -s - $(ASAN_DIR)/cc || { \
		$(MAKE) -s -C $(ASAN_DIR)/selftests clean; \
		$(MAKE) -s -C $(ASAN_DIR)/tools/stwctl clean; \
		[ ! -f $(ASAN_DIR)/lib/Makefile ] || \
			$(MAKE) -s -C $(ASAN_DIR)/lib clean; \
		echo '$(ASAN_CC)' > $(ASAN_DIR)/cc; }
	$(MAKE) -C $(ASAN_DIR)/selftests KSFT_DIR=$(KSFT_DIR) CC='$(ASAN_CC)'
	$(MAKE) -C $(ASAN_DIR)/tools/stwctl CC='$(ASAN_CC)'

check-asan: guest asan
	STW_SELFTESTS_DIR=$(ASAN_DIR)/selftests \
	STW_STWCTL=$(ASAN_DIR)/tools/stwctl/stwctl \
	STW_VM_DIR=$(BUILD)/guest-asan \
	$(RUN_VM) --cmd 'sh /stw/scripts/guest-sanitizers.sh asan'

# fuzz_test and stress_test under valgrind's memcheck, in the guest, with
# fewer messages and stop requests (COUNT=2000 per fuzz test, CYCLES=200:
# see scripts/guest-sanitizers.sh); not in CI.  Debian's valgrind is copied
# into the guest's initramfs (scripts/valgrind-files.sh says what).
valgrind: TIMEOUT = 3600
valgrind: guest
	STW_VM_EXTRA="$$(scripts/valgrind-files.sh)" \
	STW_VM_DIR=$(BUILD)/guest-valgrind \
	$(RUN_VM) --cmd 'STW_VG_FUZZ_COUNT=$(or $(COUNT),2000) \
		STW_VG_STRESS_CYCLES=$(or $(CYCLES),200) \
		sh /stw/scripts/guest-sanitizers.sh valgrind'

# A soak on the debug kernel: make stress COUNT=100000, then make fuzz
# COUNT=100000 (not in CI: hours of TCG).
soak:
	@start=$$(date +%s); rc=0; \
	$(MAKE) --no-print-directory stress KERNEL=debug COUNT=100000 || rc=1; \
	echo "soak: stress done after $$(($$(date +%s) - start)) s"; \
	$(MAKE) --no-print-directory fuzz KERNEL=debug COUNT=100000 || rc=1; \
	echo "soak: $$(($$(date +%s) - start)) s in all"; exit $$rc

# The YNL spec, Documentation/netlink/specs/stw.yaml (~4 min): validated
# against the genetlink-legacy schema of linux-source-6.12's ynl, the uapi
# header ynl-gen-c.py makes of it compared with uapi/stw.h constant by
# constant, then the module driven by ynl's cli.py in a guest that has
# Python (scripts/ynl/guest-ynl.sh).
YNL_DIR   := $(BUILD)/ynl
YNL_GUEST := $(BUILD)/ynl-guest
.PHONY: ynl check-ynl
ynl:
	@scripts/ynl/get-ynl.sh $(YNL_DIR)

check-ynl: TIMEOUT = 300
check-ynl: ynl guest
	/usr/bin/python3 scripts/ynl/check-spec.py --ynl $(YNL_DIR)
	rm -rf $(YNL_GUEST) && mkdir -p $(YNL_GUEST)/lib
	cp $(YNL_DIR)/tools/net/ynl/cli.py $(YNL_GUEST)/
	cp $(YNL_DIR)/tools/net/ynl/lib/*.py $(YNL_GUEST)/lib/
	cp Documentation/netlink/specs/stw.yaml scripts/ynl/ynl-wait.py \
		$(YNL_GUEST)/
	/usr/bin/python3 -m compileall -q $(YNL_GUEST)
	STW_VM_PYTHON=1 STW_VM_YNL=$(YNL_GUEST) \
		$(RUN_VM) --script scripts/ynl/guest-ynl.sh
