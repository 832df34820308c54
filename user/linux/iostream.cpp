// linux-iostream: C++ with libstdc++ (static): iostreams, strings, containers, exceptions thrown and
// caught across frames (the unwinder finds the program's tables through AT_PHDR).
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {
struct Problem : std::runtime_error {
    int code;
    Problem(const std::string& what, int code) : std::runtime_error(what), code(code) {}
};
int deep(int depth) {
    if (depth == 0) throw Problem("deep problem", 42);
    std::vector<std::string> keep(3, "unwound");  // destroyed during unwinding
    return deep(depth - 1) + 1;
}
}  // namespace

int main() {
    std::map<std::string, double> values{{"pi", 3.14159}, {"e", 2.71828}};
    std::ostringstream text;
    for (const auto& [name, value] : values) text << name << '=' << value << ' ';
    std::cout << "linux-iostream: " << text.str() << std::endl;
    try {
        deep(10);
        std::cout << "linux-iostream: FAILED: no exception" << std::endl;
        return 1;
    } catch (const Problem& problem) {
        std::cout << "linux-iostream: caught '" << problem.what() << "' code " << problem.code << std::endl;
    }
    try {
        std::vector<int>().at(5);
    } catch (const std::out_of_range&) {
        std::cout << "linux-iostream: caught out_of_range" << std::endl;
    }
    std::cerr << "linux-iostream: ok" << std::endl;
    return 0;
}
