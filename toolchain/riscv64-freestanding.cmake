# CMake toolchain file for the riscv64 freestanding build (kernel, vDSO, user programs).
#
# Debian's riscv64-linux-gnu-g++ (GCC 12) is used without its C library: every target built with this
# file links with -nostdlib. The compiler flags themselves live in one place, toolchain/flags.cmake.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv64)

set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(CMAKE_ASM_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_OBJCOPY riscv64-linux-gnu-objcopy CACHE FILEPATH "objcopy for riscv64")

# Nothing can be linked into a runnable program without our own linker script, so CMake's
# compiler checks build static libraries only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
