// Self-tests of the freestanding C++ runtime and of formatted output.
#include <new>

#include "kernel/console/fmt.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

// Set by a static constructor: proves .init_array ran.
struct StaticallyConstructed {
    int value;
    StaticallyConstructed() : value(0x5eed) {}
};
StaticallyConstructed statically_constructed;

int local_static_initialisations = 0;
int& counted_local_static() {
    static int value = ++local_static_initialisations;  // guarded by __cxa_guard_*
    return value;
}

struct Base {
    virtual int id() const { return 1; }
    virtual ~Base() = default;
};
struct Derived final : Base {
    int id() const override { return 2; }
};

template <typename... Args>
bool formats_to(std::string_view expected, fmt::format_string<Args...> format, Args&&... args) {
    char buffer[128];
    auto result = fmt::format_to_n(buffer, sizeof(buffer), format, static_cast<Args&&>(args)...);
    std::string_view got(buffer, result.size < sizeof(buffer) ? result.size : sizeof(buffer));
    if (got != expected) println("    formatted '{}', expected '{}'", got, expected);
    return got == expected;
}

} // namespace

bool selftest_runtime() {
    SELFTEST_CHECK(statically_constructed.value == 0x5eed);
    SELFTEST_CHECK(counted_local_static() == 1);
    SELFTEST_CHECK(counted_local_static() == 1);
    SELFTEST_CHECK(local_static_initialisations == 1);

    Base* object = new (std::nothrow) Derived;
    SELFTEST_CHECK(object != nullptr);
    SELFTEST_CHECK(object->id() == 2);
    delete object;

    // A request no heap can satisfy fails cleanly.
    void* huge = operator new(size_t{1} << 40, std::nothrow);
    SELFTEST_CHECK(huge == nullptr);
    return true;
}

bool selftest_format() {
    SELFTEST_CHECK(formats_to("42", "{}", 42));
    SELFTEST_CHECK(formats_to("0x80200000", "{:#x}", 0x80200000u));
    SELFTEST_CHECK(formats_to("-17|ab  |  cd", "{}|{:<4}|{:>4}", -17, "ab", "cd"));
    SELFTEST_CHECK(formats_to("ffffffffffffffff", "{:x}", ~0ull));
    SELFTEST_CHECK(formats_to("true", "{}", true));
    SELFTEST_CHECK(formats_to("{}", "{{}}"));
    // Truncation is visible to the caller: format_to_n reports the full size.
    char small[4];
    auto result = fmt::format_to_n(small, sizeof(small), "{}", 123456);
    SELFTEST_CHECK(result.size == 6);
    return true;
}

} // namespace kernel
