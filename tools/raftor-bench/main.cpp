// raftor-bench: a load generator for raftor clusters, in the spirit of etcd's benchmark
// tool. Exit 0 when every operation succeeded, 1 when some failed, 2 for bad arguments.
#include <cstdio>
#include <fstream>

#include "bench_runner.hpp"

int main(int argc, char** argv) {
  auto parsed = raftor::bench::parse_bench_options(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "raftor-bench: %s\n", parsed.error().message.c_str());
    return 2;
  }
  if (auto* help = std::get_if<raftor::bench::HelpRequested>(&*parsed)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  const auto& options = std::get<raftor::bench::BenchOptions>(*parsed);
  const raftor::bench::BenchResult result = raftor::bench::run_bench(options);
  if (!options.quiet) std::fputs(raftor::bench::summary_text(options, result).c_str(), stdout);
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << raftor::bench::summary_json(options, result) << '\n';
  }
  return result.errors == 0 ? 0 : 1;
}
