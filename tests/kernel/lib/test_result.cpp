#include <catch2/catch.hpp>

#include "abi/result.hpp"

using kernel::Error;
using kernel::Result;

namespace {
int live_objects = 0;
struct Counted {
    int value;
    explicit Counted(int v) : value(v) { ++live_objects; }
    Counted(const Counted& other) : value(other.value) { ++live_objects; }
    ~Counted() { --live_objects; }
};
Result<int> halve(int x) {
    if (x % 2) return Error::InvalidArgument;
    return x / 2;
}
} // namespace

TEST_CASE("result: carries a value or an error") {
    auto ok = halve(8);
    REQUIRE(ok);
    CHECK(*ok == 4);
    auto bad = halve(3);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == Error::InvalidArgument);
    CHECK(bad.value_or(-1) == -1);
    CHECK(std::string(kernel::error_name(Error::NoMemory)) == "out of memory");
}

TEST_CASE("result: destroys exactly the values it constructed") {
    {
        Result<Counted> a(Counted(1));
        Result<Counted> b(Error::NoMemory);
        Result<Counted> c = a;
        CHECK(live_objects == 2);
        b = a;
        CHECK(live_objects == 3);
        a = Result<Counted>(Error::NotFound);
        CHECK(live_objects == 2);
        CHECK(c->value == 1);
    }
    CHECK(live_objects == 0);
}

TEST_CASE("result<void>: success or error") {
    kernel::Result<void> ok = kernel::success();
    CHECK(ok);
    kernel::Result<void> bad = Error::Truncated;
    CHECK_FALSE(bad);
    CHECK(bad.error() == Error::Truncated);
}
