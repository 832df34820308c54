// The host benchmark driver: runs every benchmark, prints a table of nanoseconds per operation and
// writes it as CSV (`name,unit,value`) to the path given with --csv=<path>.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

// The cost of the two clock reads around a batch, subtracted from every batch.
double clock_overhead_ns() {
    double best = 1e9;
    for (int round = 0; round < 10000; ++round) {
        const auto start = std::chrono::steady_clock::now();
        const auto end = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::nano>(end - start).count());
    }
    return best;
}

class PerOperationReporter : public benchmark::BenchmarkReporter {
public:
    explicit PerOperationReporter(double overhead_ns) : overhead_ns_(overhead_ns) {}

    bool ReportContext(const Context&) override {
        std::printf("%-40s %12s\n", "name", "ns/op");
        return true;
    }
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred) continue;
            // With repetitions, keep the median of each benchmark only.
            if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
            std::string name = run.benchmark_name();
            name = name.substr(0, name.find('/'));
            double batch = 1;
            if (auto it = run.counters.find("batch"); it != run.counters.end()) batch = it->second.value;
            // Manual-time batches: subtract the clock reads once per batch.
            const double batch_ns = run.GetAdjustedRealTime() - (batch > 1 ? overhead_ns_ : 0.0);
            const double per_op = batch_ns / batch;
            rows_.emplace_back(name, per_op);
            std::printf("%-40s %12.2f\n", name.c_str(), per_op);
            std::fflush(stdout);
        }
    }
    const std::vector<std::pair<std::string, double>>& rows() const { return rows_; }

private:
    double overhead_ns_;
    std::vector<std::pair<std::string, double>> rows_;
};

} // namespace

int main(int argc, char** argv) {
    std::string csv_path;
    std::vector<char*> arguments;
    for (int i = 0; i < argc; ++i) {
        if (std::strncmp(argv[i], "--csv=", 6) == 0) {
            csv_path = argv[i] + 6;
        } else {
            arguments.push_back(argv[i]);
        }
    }
    // Make the process multi-threaded before measuring, as every process whose executor is shared by
    // several harts is: glibc drops the atomic instructions of std::mutex while a process has only
    // ever had one thread, which would flatter the std::priority_queue baseline.
    std::thread([] {}).join();
    int count = static_cast<int>(arguments.size());
    benchmark::Initialize(&count, arguments.data());
    const double overhead = clock_overhead_ns();
    std::printf("clock overhead per batch: %.1f ns (subtracted)\n", overhead);
    PerOperationReporter reporter(overhead);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    if (!csv_path.empty()) {
        std::ofstream csv(csv_path);
        csv << "name,unit,value\n";
        for (const auto& [name, value] : reporter.rows()) csv << name << ",ns," << value << "\n";
        std::printf("wrote %s\n", csv_path.c_str());
    }
    return 0;
}
