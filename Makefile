# The front door. CMake does the building; this file only names the everyday commands.
#
#   make run     [MACHINE=virt|sifive_u] [SMP=N] [BOOTARGS="..."]   boot the kernel in QEMU
#                [HOSTFWD=tcp:127.0.0.1:6201-:80] [NET=0]          (host forwarding; NET=0: no network)
#   make test                                                       build and run every test
#   make debug   [MACHINE=...] [SMP=N]                              QEMU waiting for gdb-multiarch
#   make bench                                                      in-guest benchmarks (QEMU, -icount)
#   make bench-host                                                 host benchmarks of the executor
#   make bench-net                                                  network figures from the host (wall clock)
#   make experiment [QUICK=1]                                       the TcpServer experiment (QEMU + tools/tcpclient):
#                                                                   build/results/tcpserver-*, docs/experiments.md
#   make fuzz    [DURATION=30m] [SMP=4] [SEED=S] [DEBUG_MEMORY=1]     bin/stress on fresh seeds for DURATION:
#                                                                   build/results/fuzz-report.md (DEBUG_MEMORY=1:
#                                                                   a poisoning kernel built in build-debug/)
#   make clean

BUILD    ?= build
MACHINE  ?= virt
SMP      ?=
BOOTARGS ?=
HOSTFWD  ?= tcp:127.0.0.1:6201-:80
NET      ?= 1
QUICK    ?= 0
JOBS     ?= $(shell nproc)
DURATION ?= 10m
SEED     ?=
DEBUG_MEMORY ?=

.PHONY: all setup configure build run debug test bench bench-host bench-net experiment fuzz clean

all: build

setup:
	@scripts/setup

configure: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/qemu-run --machine $(MACHINE) $(if $(SMP),--smp $(SMP)) $(if $(filter 0,$(NET)),--no-net,--hostfwd "$(HOSTFWD)") \
		--kernel $(BUILD)/riscv/kernel/kernel.bin -- "$(BOOTARGS)"

debug: build
	@echo "QEMU waits for a debugger on localhost:1234. In another terminal:"
	@echo "    gdb-multiarch $(BUILD)/riscv/kernel/kernel.elf -ex 'target remote :1234'"
	@scripts/qemu-run --machine $(MACHINE) $(if $(SMP),--smp $(SMP)) --kernel $(BUILD)/riscv/kernel/kernel.bin --gdb -- "$(BOOTARGS)"

test: build
	@scripts/run-tests $(BUILD) $(JOBS)

# Builds the riscv64 half only (kernel, vDSO, programs), then boots QEMU (1 hart, -icount shift=0)
# with bench=full: build/results/bench-guest.{csv,log} and bench-guest-*.png.
bench: configure
	@cmake --build $(BUILD) -j $(JOBS) --target riscv
	@scripts/bench $(BUILD)

# Boots QEMU virt (1 hart, then 4) on its user network and measures both echo-server models from the
# host through forwarded 127.0.0.1 ports: build/results/bench-net.csv (docs/network.md, "Measured").
bench-net: configure
	@cmake --build $(BUILD) -j $(JOBS) --target riscv
	@scripts/bench-net $(BUILD)

bench-host: build
	@cmake --build $(BUILD) --target bench-host

# Boots QEMU virt per model and vCPU count, runs bin/tcpserver at the shell and drives it from the host
# with build/tools/tcpclient over a tap in a network namespace of its own (NET=tap, the default where
# unshare -n and /dev/net/tun allow it) or a forwarded 127.0.0.1 port (NET=user) (scripts/experiment).
# QUICK=1: minutes.
experiment: build
	@scripts/experiment $(BUILD) $(if $(filter 1,$(QUICK)),--quick)

# The fuzzer (docs/reliability.md, "The fuzzer"): the riscv64 half only, then scripts/fuzz boots
# QEMU again and again (virt; SMP harts, default 4) until DURATION has passed. DEBUG_MEMORY=1 builds
# the kernel with COKERNEL_DEBUG_MEMORY (poisoned heap and frames, checked) in build-debug/.
FUZZ_BUILD = $(if $(DEBUG_MEMORY),build-debug,$(BUILD))
fuzz: setup
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(if $(DEBUG_MEMORY),-DCOKERNEL_DEBUG_MEMORY=ON) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target riscv
	@scripts/fuzz $(FUZZ_BUILD) --duration $(DURATION) --smp $(or $(SMP),4) $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(BUILD)
