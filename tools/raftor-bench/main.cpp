// raftor-bench: a load generator for raftor clusters, in the spirit of etcd's benchmark
// tool. Exit 0 when every operation succeeded, 1 when some failed, 2 for bad arguments.
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "bench_runner.hpp"
#include "raftor/client/client.hpp"

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
  raftor::bench::BenchResult result;
  {
    // One actor system per connection; the configs, declared first, outlive the systems.
    std::vector<std::unique_ptr<caf::actor_system_config>> configs;
    std::vector<std::unique_ptr<caf::actor_system>> systems;
    std::vector<caf::actor_system*> handles;
    for (unsigned i = 0; i < options.connections; ++i) {
      configs.push_back(std::make_unique<caf::actor_system_config>());
      raftor::client::configure_client_system(*configs.back());
      systems.push_back(std::make_unique<caf::actor_system>(*configs.back()));
      handles.push_back(systems.back().get());
    }
    result = raftor::bench::run_bench(handles, options);
  }
  if (!options.quiet) std::fputs(raftor::bench::summary_text(options, result).c_str(), stdout);
  if (!options.json_path.empty()) {
    std::ofstream(options.json_path) << raftor::bench::summary_json(options, result) << '\n';
  }
  return result.errors == 0 ? 0 : 1;
}
