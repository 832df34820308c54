// The one main() of every host test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
