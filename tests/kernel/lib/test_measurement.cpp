#include <catch2/catch.hpp>

#include "abi/measurement.hpp"

using kernel::measurement::MaxRepetitions;
using kernel::measurement::Repetitions;

TEST_CASE("measurement: per-operation values are tenths rounded to the nearest") {
    Repetitions runs;
    REQUIRE(runs.add_per_operation(1000, 3)); // 333.33 -> 3333
    REQUIRE(runs.add_per_operation(1001, 6)); // 166.83 -> 1668
    REQUIRE(runs.add_per_operation(5, 100));  // 0.05 -> 1 (half rounds up)
    REQUIRE_FALSE(runs.add_per_operation(1, 0));
    REQUIRE(runs.count() == 3);
    auto summary = runs.summary();
    CHECK(summary.min == 1);
    CHECK(summary.median == 1668);
    CHECK(summary.max == 3333);
}

TEST_CASE("measurement: median of an odd and an even count, whatever the order") {
    Repetitions odd;
    for (uint64_t value : {7, 3, 9, 1, 5}) REQUIRE(odd.add_whole(value));
    CHECK(odd.summary().median == 50);
    CHECK(odd.summary().min == 10);
    CHECK(odd.summary().max == 90);

    Repetitions even;
    for (uint64_t value : {4, 1, 3, 2}) REQUIRE(even.add_whole(value));
    CHECK(even.summary().median == 25); // (20 + 30) / 2
}

TEST_CASE("measurement: empty and full") {
    Repetitions runs;
    CHECK(runs.summary().median == 0);
    for (size_t i = 0; i < MaxRepetitions; ++i) REQUIRE(runs.add_tenths(i));
    CHECK_FALSE(runs.add_tenths(99));
    CHECK(runs.summary().max == MaxRepetitions - 1);
}
