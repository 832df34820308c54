#include <catch2/catch.hpp>

#include "kernel/lib/bootargs.hpp"

using kernel::BootArgs;
using kernel::list_contains;

TEST_CASE("bootargs: key=value tokens are found by exact key") {
    BootArgs args("  selftest=timer,ipi quiet  console=ttyS0 ");
    CHECK(args.value("selftest") == "timer,ipi");
    CHECK(args.value("console") == "ttyS0");
    CHECK(args.has("quiet"));
    CHECK(args.value("quiet").empty());
    CHECK_FALSE(args.has("self"));
    CHECK_FALSE(args.has("selftest=timer"));
    CHECK_FALSE(args.has("loud"));
}

TEST_CASE("bootargs: empty and degenerate lines") {
    CHECK_FALSE(BootArgs("").has("x"));
    CHECK_FALSE(BootArgs("    ").has("x"));
    CHECK(BootArgs("x=").has("x"));
    CHECK(BootArgs("x=").value("x").empty());
    CHECK(BootArgs("x=a=b").value("x") == "a=b");
    CHECK(BootArgs("x=1 x=2").value("x") == "1");
}

TEST_CASE("bootargs: comma lists match whole elements") {
    CHECK(list_contains("timer,ipi", "ipi"));
    CHECK(list_contains("timer,ipi", "timer"));
    CHECK(list_contains("all", "all"));
    CHECK_FALSE(list_contains("timer,ipi", "tim"));
    CHECK_FALSE(list_contains("timer,ipi", ""));
    CHECK(list_contains("a,,b", ""));
    CHECK_FALSE(list_contains("", "a"));
}
