// Sub-word atomics for the libatomic calls GCC 12 emits on RISC-V.
//
// RV64A has atomic instructions for 32- and 64-bit words only; GCC 12 turns an exchange or a
// compare-and-swap on a bool, char or short into a call to __atomic_*_1/_2 (GCC 13's
// -minline-atomics would inline them). Each is done here as a compare-and-swap loop on the aligned
// 32-bit word that contains the value, which is what libatomic does.
#include <cstddef>
#include <cstdint>

namespace {

template <typename T>
struct SubWord {
    uint32_t* word;
    unsigned shift;
    uint32_t mask;

    explicit SubWord(volatile void* address) {
        auto raw = reinterpret_cast<uintptr_t>(address);
        word = reinterpret_cast<uint32_t*>(raw & ~uintptr_t{3});
        shift = static_cast<unsigned>((raw & 3) * 8);
        mask = ((uint32_t{1} << (sizeof(T) * 8)) - 1) << shift;
    }
    T extract(uint32_t value) const { return static_cast<T>((value & mask) >> shift); }
    uint32_t insert(uint32_t value, T part) const { return (value & ~mask) | ((uint32_t{part} << shift) & mask); }
};

// Applies update(old) atomically; returns the old value.
template <typename T, typename Update>
T read_modify_write(volatile void* address, Update update) {
    SubWord<T> sub(address);
    uint32_t current = __atomic_load_n(sub.word, __ATOMIC_RELAXED);
    for (;;) {
        uint32_t desired = sub.insert(current, update(sub.extract(current)));
        if (__atomic_compare_exchange_n(sub.word, &current, desired, true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return sub.extract(current);
    }
}

template <typename T>
bool compare_exchange(volatile void* address, void* expected, T desired) {
    SubWord<T> sub(address);
    T wanted = *static_cast<T*>(expected);
    uint32_t current = __atomic_load_n(sub.word, __ATOMIC_RELAXED);
    for (;;) {
        if (sub.extract(current) != wanted) {
            *static_cast<T*>(expected) = sub.extract(current);
            return false;
        }
        if (__atomic_compare_exchange_n(sub.word, &current, sub.insert(current, desired), true, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            return true;
    }
}

} // namespace

extern "C" {

uint8_t __atomic_exchange_1(volatile void* address, uint8_t value, int) {
    return read_modify_write<uint8_t>(address, [value](uint8_t) { return value; });
}
uint16_t __atomic_exchange_2(volatile void* address, uint16_t value, int) {
    return read_modify_write<uint16_t>(address, [value](uint16_t) { return value; });
}
bool __atomic_compare_exchange_1(volatile void* address, void* expected, uint8_t desired, bool, int, int) {
    return compare_exchange<uint8_t>(address, expected, desired);
}
bool __atomic_compare_exchange_2(volatile void* address, void* expected, uint16_t desired, bool, int, int) {
    return compare_exchange<uint16_t>(address, expected, desired);
}
uint8_t __atomic_fetch_add_1(volatile void* address, uint8_t value, int) {
    return read_modify_write<uint8_t>(address, [value](uint8_t old) { return static_cast<uint8_t>(old + value); });
}
uint8_t __atomic_fetch_sub_1(volatile void* address, uint8_t value, int) {
    return read_modify_write<uint8_t>(address, [value](uint8_t old) { return static_cast<uint8_t>(old - value); });
}
uint8_t __atomic_fetch_or_1(volatile void* address, uint8_t value, int) {
    return read_modify_write<uint8_t>(address, [value](uint8_t old) { return static_cast<uint8_t>(old | value); });
}
uint8_t __atomic_fetch_and_1(volatile void* address, uint8_t value, int) {
    return read_modify_write<uint8_t>(address, [value](uint8_t old) { return static_cast<uint8_t>(old & value); });
}
uint16_t __atomic_fetch_add_2(volatile void* address, uint16_t value, int) {
    return read_modify_write<uint16_t>(address, [value](uint16_t old) { return static_cast<uint16_t>(old + value); });
}
uint16_t __atomic_fetch_sub_2(volatile void* address, uint16_t value, int) {
    return read_modify_write<uint16_t>(address, [value](uint16_t old) { return static_cast<uint16_t>(old - value); });
}

} // extern "C"
