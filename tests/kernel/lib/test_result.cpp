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

namespace {
int evaluations = 0;
kernel::Result<int> number(bool ok) {
    ++evaluations;
    if (!ok) return Error::Malformed;
    return 20;
}
kernel::Result<void> check(bool ok) { return ok ? kernel::success() : kernel::Result<void>(Error::Truncated); }
kernel::Result<int> doubled(bool ok) { return TRY(number(ok)) * 2; }
kernel::Result<int> both(bool first, bool second) {
    TRY(check(first));
    int value = TRY(number(second));
    return value + 1;
}
} // namespace

TEST_CASE("TRY: the value on success, the same error returned early on failure, evaluated once") {
    evaluations = 0;
    auto twice = doubled(true);
    REQUIRE(twice);
    CHECK(*twice == 40);
    CHECK(evaluations == 1);
    auto failed = doubled(false);
    REQUIRE_FALSE(failed);
    CHECK(failed.error() == Error::Malformed);
    CHECK(evaluations == 2);

    CHECK(*both(true, true) == 21);
    CHECK(both(false, true).error() == Error::Truncated);
    CHECK(evaluations == 3);  // the failed check returned before number() ran
    CHECK(both(true, false).error() == Error::Malformed);
}
