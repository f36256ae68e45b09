// raftor-node: one node of a raftor cluster with a built-in state machine (RocksDB by
// default). Configuration: a TOML file (--config, see node/raftor-node.example.toml),
// flags override it, RAFTOR_<SECTION>_<KEY> environment variables override both.
//
// Exit codes: 0 after SIGTERM/SIGINT and a clean shutdown; 1 if the node stopped on its
// own (a log or state machine failure: see the log); 2 for a bad configuration or a node
// that could not start (port taken, data directory unusable).
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "raftor/node/config_overrides.hpp"
#include "raftor/node/config_validation.hpp"
#include "raftor/node/logging.hpp"
#include "raftor/node/node_builder.hpp"

extern char** environ;

namespace {

using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

int fail(const std::string& message) {
  std::fprintf(stderr, "raftor-node: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // SIGTERM and SIGINT are taken by a thread of ours (sigwait), never by CAF's or spdlog's
  // threads: block them before any thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto loaded = raftor::node::load_node_config(argc, argv, raftor::node::environment_map(environ));
  if (!loaded) return fail(loaded.error().message);
  if (auto* help = std::get_if<raftor::node::HelpRequested>(&*loaded)) {
    std::fputs(help->text.c_str(), stdout);
    return 0;
  }
  auto config = std::get<raftor::node::NodeConfig>(std::move(*loaded));
  if (auto s = raftor::node::validate(config); !s) return fail(s.error().message);
  if (auto s = raftor::node::configure_logging(config); !s) return fail(s.error().message);

  auto sm = raftor::make_builtin_state_machine(config);
  if (!sm) return fail(sm.error().to_string());
  auto node = raftor::NodeBuilder(config).state_machine(std::move(sm).value()).start();
  if (!node) return fail(node.error().to_string());

  int exit_code = 0;
  {
    caf::scoped_actor self{(*node)->system()};
    self->monitor((*node)->actor());
    const caf::actor me = caf::actor_cast<caf::actor>(self);
    std::thread signal_waiter([signals, me] {
      int sig = 0;
      sigwait(&signals, &sig);
      spdlog::info("received {}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      caf::anon_send(me, shutdown_atom::value);
    });
    // Ready for scripts: one line on stdout once the endpoint is published.
    std::printf("raftor-node %llu ready on %s:%u\n", static_cast<unsigned long long>(config.id),
                config.listen.host.c_str(), static_cast<unsigned>((*node)->port()));
    std::fflush(stdout);
    bool waiting = true;
    self->receive_while(waiting)(
        [&](shutdown_atom) { waiting = false; },
        [&](const caf::down_msg& down) {
          spdlog::critical("the Raft actor stopped: {}", caf::to_string(down.reason));
          exit_code = 1;
          waiting = false;
        });
    (*node)->stop();
    if (exit_code != 0) {
      // The signal thread still waits: wake it so it can be joined.
      pthread_kill(signal_waiter.native_handle(), SIGTERM);
    }
    signal_waiter.join();
  }
  node->reset();
  spdlog::info("bye");
  spdlog::shutdown();
  return exit_code;
}
