# SPDX-License-Identifier: GPL-2.0
#
# stw: build the module and the tools, and run them in a QEMU guest.
# See README.md; `make help` lists the targets.

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
GUEST_KVER := $(shell cat $(CACHE)/kernel/version 2>/dev/null || \
		dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
GUEST_KDIR := /usr/src/linux-headers-$(GUEST_KVER)
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
KSFT_DIR   := $(CACHE)/kselftest
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

.PHONY: all module stwctl selftests deps guest vm demo check bench clean help \
	checkpatch check-mutants mutants-unarmed check-debug stress fuzz

all: module stwctl selftests

module:
ifneq ($(MODDIR),$(CURDIR))
	scripts/kernels/copy-src.sh $(MODDIR) $(BUILD)
endif
	$(MAKE) -C $(KDIR) M=$(MODDIR) modules

stwctl:
	$(MAKE) -C tools/stwctl

selftests:
	$(MAKE) -C selftests KSFT_DIR=$(KSFT_DIR)

deps:
	@scripts/deps.sh $(BUILD)
ifneq ($(KERNEL),6.1)
	@scripts/kernels/get.sh $(KERNEL) $(BUILD)
endif

# Everything the guest needs, built for the guest's kernel.
guest: deps
	$(MAKE) KDIR=$(GUEST_KDIR) all

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

# stw against a raw barrier and kthread_park(), in the guest (~10 min of
# TCG): a table, build/bench/bench.csv and build/bench/bench.png.
bench: guest
	$(MAKE) -C bench
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

# trace.h keeps the TRACE_EVENT layout that --strict objects to, as
# mainline's trace headers do.
CHECKPATCH = $(CACHE)/checkpatch/checkpatch.pl --no-tree --terse \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG
checkpatch: deps
	$(CHECKPATCH) --strict -f $(filter-out module/trace.h %.mod.c,\
		$(wildcard module/*.c module/*.h uapi/*.h))
	$(CHECKPATCH) -f module/trace.h

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools/stwctl clean
	$(MAKE) -C selftests clean
	$(MAKE) -C lib clean

help:
	@echo 'make             build module/stw.ko, tools/stwctl/stwctl, selftests'
	@echo 'make deps        install build and test dependencies (Debian 12)'
	@echo 'make demo        boot the guest and show a stop, a step and a resume'
	@echo 'make check       run the selftests in the guest'
	@echo "make vm CMD='stwctl status'   run a command in the guest"
	@echo 'make vm SCRIPT=path/to/script run a script in the guest'
	@echo 'make check-mutants  show each race test fails on its mutant (RACES=)'
	@echo 'make checkpatch  run the kernel style checker on module/ and uapi/'
	@echo 'make check-debug run them on a 6.1 kernel with KASAN, lockdep, kmemleak...'
	@echo 'variables: KDIR (kernel build dir), TIMEOUT (s), ACCEL (tcg|kvm),'
	@echo '  KERNEL (guest kernel: 6.1 (default), 6.12, 6.12-rt, debug)'

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
