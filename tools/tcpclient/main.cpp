// tcpclient: the host-side load generator of the TcpServer experiment (docs/experiments.md).
// Prints one line per priority level and the summary line
//   tcpclient: sent S replies R wrong W lost X late Y mean_us M p50_us .. p90_us .. p99_us .. ...
// Exit status: 0, or 1 if any reply was wrong (warm-up replies too), 2 on a usage error, 3 if no connection was ready.
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "tools/tcpclient/client.hpp"
#include "tools/tcpclient/report.hpp"

int main(int argc, char** argv) {
    using namespace tcpclient;
    std::string error;
    auto options = parse_options(std::vector<std::string>(argv + 1, argv + argc), error);
    if (!options) {
        std::fprintf(stderr, "tcpclient: %s\n%s", error.c_str(), usage());
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    // One descriptor per connection: raise the soft limit to the hard one.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (options->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(options->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            std::fprintf(stderr, "tcpclient: cannot pin to CPU %d; running unpinned\n", options->cpu);
    }
    Report report;
    try {
        report = run(*options);
    } catch (const std::exception& failure) {
        std::fprintf(stderr, "tcpclient: %s\n", failure.what());
        return 2;
    }
    for (const auto& line : level_lines(report)) std::printf("%s\n", line.c_str());
    std::printf("%s\n", summary_line(report).c_str());
    if (!options->csv.empty() && !write_csv(report, options->csv))
        std::fprintf(stderr, "tcpclient: cannot write %s\n", options->csv.c_str());
    if (!options->histogram_csv.empty() && !write_histogram_csv(report, options->histogram_csv))
        std::fprintf(stderr, "tcpclient: cannot write %s\n", options->histogram_csv.c_str());
    Counts sum = total(report);
    if (sum.wrong > 0 || report.warmup_wrong > 0) return 1;
    if (ready_count(report) == 0) return 3;
    return 0;
}
