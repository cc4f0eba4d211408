# SPDX-License-Identifier: GPL-2.0
#
# stw: build the module and the tools, and run them in a QEMU guest.
# See README.md; `make help` lists the targets.

BUILD      ?= $(CURDIR)/build
CACHE      := $(BUILD)/cache
# The guest kernel is the one linux-headers-amd64 builds against.
GUEST_KVER := $(shell cat $(CACHE)/kernel/version 2>/dev/null || \
		dpkg-query -W -f='$${Depends}' linux-headers-amd64 2>/dev/null | \
		sed -n 's/.*linux-headers-\([0-9][^ ,]*-amd64\).*/\1/p')
GUEST_KDIR := /usr/src/linux-headers-$(GUEST_KVER)
# On a real machine build for the running kernel; else for the guest's.
KDIR       ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build/Makefile),\
		/lib/modules/$(shell uname -r)/build,$(GUEST_KDIR))
KSFT_DIR   := $(CACHE)/kselftest
# Guest time limit in seconds, and QEMU accelerator (tcg; kvm on request).
TIMEOUT    ?= 900
ACCEL      ?= tcg
RUN_VM      = scripts/qemu/run.sh --build $(BUILD) --accel $(ACCEL) \
		--timeout $(TIMEOUT)

.PHONY: all module stwctl selftests deps guest vm demo check clean help \
	checkpatch check-mutants

all: module stwctl selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

stwctl:
	$(MAKE) -C tools/stwctl

selftests:
	$(MAKE) -C selftests KSFT_DIR=$(KSFT_DIR)

deps:
	@scripts/deps.sh $(BUILD)

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
	$(RUN_VM) --script selftests/run_tests.sh

# Each race test passes on the real build and fails on its mutant.
check-mutants: guest
	scripts/check-mutants.sh $(BUILD) $(GUEST_KDIR) $(RACES)

checkpatch: deps
	$(CACHE)/checkpatch/checkpatch.pl --no-tree --strict --terse \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
		-f module/*.c module/*.h uapi/*.h

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tools/stwctl clean
	$(MAKE) -C selftests clean

help:
	@echo 'make             build module/stw.ko, tools/stwctl/stwctl, selftests'
	@echo 'make deps        install build and test dependencies (Debian 12)'
	@echo 'make demo        boot the guest and show a stop, a step and a resume'
	@echo 'make check       run the selftests in the guest'
	@echo "make vm CMD='stwctl status'   run a command in the guest"
	@echo 'make vm SCRIPT=path/to/script run a script in the guest'
	@echo 'make check-mutants  show each race test fails on its mutant (RACES=)'
	@echo 'make checkpatch  run the kernel style checker on module/ and uapi/'
	@echo 'variables: KDIR (kernel build dir), TIMEOUT (s), ACCEL (tcg|kvm)'
