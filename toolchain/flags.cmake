# The one place that holds the compiler flags of everything that runs on the RISC-V target.
#
# Profile: rv64imac / lp64 (no FPU use, no Zbb, no Sstc assumed), so that one kernel image runs on
# QEMU virt, QEMU sifive_u and Rocket-class FPGA soft cores. Extensions are discovered at run time
# from the device tree.

set(RISCV_ARCH_FLAGS -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany)

# Debian ships glibc headers for lp64d only; an empty gnu/stubs-lp64.h lets the hosted libstdc++
# headers that are freestanding-safe (<atomic>, <coroutine>, <type_traits>, ...) compile for lp64.
set(RISCV_FREESTANDING_FLAGS
    ${RISCV_ARCH_FLAGS}
    -ffreestanding -fno-exceptions -fno-rtti -nostdlib
    -fno-stack-protector -fno-omit-frame-pointer -fno-asynchronous-unwind-tables
    -fno-builtin-printf -ffunction-sections -fdata-sections
    -Wall -Wextra -Werror=return-type
    -isystem ${CMAKE_CURRENT_LIST_DIR}/include)

# The lp64 libgcc of Debian's bare-metal compiler (soft multiply helpers, __ctzdi2, ...).
execute_process(
    COMMAND riscv64-unknown-elf-gcc -march=rv64imac -mabi=lp64 -print-libgcc-file-name
    OUTPUT_VARIABLE RISCV_LIBGCC OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS "${RISCV_LIBGCC}")
    message(FATAL_ERROR "lp64 libgcc not found (install gcc-riscv64-unknown-elf: scripts/setup)")
endif()

# Interface target every freestanding target links to.
add_library(riscv_freestanding INTERFACE)
target_compile_options(riscv_freestanding INTERFACE
    ${RISCV_FREESTANDING_FLAGS}
    $<$<COMPILE_LANGUAGE:CXX>:-std=c++20 -fno-use-cxa-atexit>)
target_compile_definitions(riscv_freestanding INTERFACE
    COKERNEL_FREESTANDING=1
    FMT_HEADER_ONLY=1 FMT_USE_FLOAT=0 FMT_USE_DOUBLE=0 FMT_USE_LONG_DOUBLE=0
    FMT_STATIC_THOUSANDS_SEPARATOR=1 FMT_USE_LOCALE=0)
target_include_directories(riscv_freestanding INTERFACE ${PROJECT_SOURCE_DIR})
target_link_options(riscv_freestanding INTERFACE
    ${RISCV_ARCH_FLAGS} -nostdlib -static -Wl,--build-id=none -Wl,--gc-sections)
