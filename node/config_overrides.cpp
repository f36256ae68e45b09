#include <cctype>
#include "raftor/node/config_overrides.hpp"

#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "raftor/node/config_file.hpp"
#include "raftor/node/config_keys.hpp"

namespace raftor::node {

namespace {

constexpr std::string_view kEnvPrefix = "RAFTOR_";

std::string_view group_title(std::string_view section) {
  if (section == "cluster") return "Cluster";
  if (section == "node") return "This node";
  if (section == "raft") return "Raft (durations in milliseconds)";
  if (section == "snapshot") return "Snapshots";
  return "Logging";
}

// The command line, parsed but not yet applied: flags are applied after the file.
struct CommandLine {
  CLI::App app{
      "One node of a raftor cluster. Settings apply in this order, later ones winning: "
      "defaults, the --config file, flags, RAFTOR_<SECTION>_<KEY> environment variables.",
      "raftor-node"};
  std::string config_file;
  std::vector<std::vector<std::string>> values;  // per config key, in config_keys() order
  std::vector<CLI::Option*> options;

  CommandLine() {
    app.add_option("--config", config_file,
                   "TOML configuration file (documented in raftor-node.example.toml)")
        ->type_name("FILE");
    const auto& keys = config_keys();
    values.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) options.push_back(add_flag(keys[i], values[i]));
    app.allow_extras();  // reported by unknown_argument(), in our words
  }

  CLI::Option* add_flag(const ConfigKey& key, std::vector<std::string>& value) {
    const std::string description = std::string(key.help) + " [" + key.env_name() + "]";
    NodeConfig scratch;
    CLI::Option* option = nullptr;
    if (std::holds_alternative<bool*>(key.field(scratch))) {
      // --log-json alone means true; --log-json=false is accepted too.
      option = app.add_flag(std::string(key.flag), value, description)
                   ->multi_option_policy(CLI::MultiOptionPolicy::Throw);
    } else {
      option = app.add_option(std::string(key.flag), value, description)
                   ->type_name(std::string(type_placeholder(key)));
      if (std::holds_alternative<std::vector<PeerAddress>*>(key.field(scratch))) {
        option->delimiter(',');  // repeatable and comma-separated
      } else {
        option->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::Throw);
      }
    }
    if (const std::string fallback = default_text(key); !fallback.empty()) {
      option->default_str(fallback);
    }
    option->group(std::string(group_title(key.section)));
    return option;
  }

  std::optional<std::string> unknown_argument() const {
    for (const std::string& arg : app.remaining()) {
      if (arg.starts_with('-')) {
        return "unknown flag '" + arg.substr(0, arg.find('=')) + "' (see --help)";
      }
      return "unexpected argument '" + arg + "' (see --help)";
    }
    return std::nullopt;
  }
};

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

Status invalid(std::vector<std::string> problems) {
  return make_error(ErrorCode::invalid_argument, join(problems, "\n"));
}

// Flags given on the command line, over `config`; every bad value is reported.
Status apply_flags(const CommandLine& command_line, NodeConfig& config) {
  std::vector<std::string> problems;
  const auto& keys = config_keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (command_line.options[i]->count() == 0) continue;
    if (auto set = set_from_text(keys[i], config, join(command_line.values[i], ",")); !set) {
      problems.push_back("bad value for " + std::string(keys[i].flag) + ": " +
                         set.error().message);
    }
  }
  return problems.empty() ? Status{} : invalid(std::move(problems));
}

Result<LoadedNodeConfig> load(int argc, const char* const* argv,
                              const std::map<std::string, std::string>& env) {
  // CLI::App is neither copyable nor movable: keep it in place.
  auto command_line = std::make_unique<CommandLine>();
  try {
    command_line->app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return LoadedNodeConfig{HelpRequested{command_line->app.help()}};
  } catch (const CLI::CallForAllHelp&) {
    return LoadedNodeConfig{HelpRequested{command_line->app.help()}};
  } catch (const CLI::ParseError& e) {
    return make_error(ErrorCode::invalid_argument, std::string("command line: ") + e.what());
  }
  if (auto unknown = command_line->unknown_argument()) {
    return make_error(ErrorCode::invalid_argument, *unknown);
  }

  NodeConfig config;
  if (!command_line->config_file.empty()) {
    if (auto file = apply_config_file(command_line->config_file, config); !file) {
      return file.error();
    }
  }
  std::vector<std::string> problems;
  if (auto flags = apply_flags(*command_line, config); !flags) {
    problems.push_back(flags.error().message);
  }
  if (auto environment = apply_environment(env, config); !environment) {
    problems.push_back(environment.error().message);
  }
  if (!problems.empty()) return invalid(std::move(problems)).error();
  return LoadedNodeConfig{std::move(config)};
}

}  // namespace

Result<LoadedNodeConfig> load_node_config(int argc, const char* const* argv,
                                          const std::map<std::string, std::string>& env) {
  try {
    return load(argc, argv, env);
  } catch (const std::exception& e) {  // CLI11 throws; nothing is thrown past this API
    return make_error(ErrorCode::internal, std::string("loading the configuration: ") + e.what());
  }
}

std::map<std::string, std::string> environment_map(const char* const* environ) {
  std::map<std::string, std::string> env;
  for (; environ != nullptr && *environ != nullptr; ++environ) {
    const std::string_view entry(*environ);
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
  }
  return env;
}

// RAFTOR_<SECTION>_... where SECTION is one of the config file's sections.
bool names_config_section(std::string_view name) {
  name.remove_prefix(kEnvPrefix.size());
  const auto underscore = name.find('_');
  if (underscore == std::string_view::npos) return false;
  std::string section(name.substr(0, underscore));
  for (char& c : section) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return is_config_section(section);
}

Status apply_environment(const std::map<std::string, std::string>& env, NodeConfig& config) {
  std::map<std::string, const ConfigKey*> by_name;
  for (const ConfigKey& key : config_keys()) by_name.emplace(key.env_name(), &key);

  std::vector<std::string> problems;
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix)) continue;
    auto key = by_name.find(name);
    if (key == by_name.end()) {
      // Only a variable naming a config section (RAFTOR_RAFT_..., RAFTOR_NODE_...) is a
      // config key: others (RAFTOR_ENDPOINTS for raftorctl, build settings) are not ours.
      if (!names_config_section(name)) continue;
      problems.push_back("unknown environment variable " + name +
                         ": RAFTOR_* variables set config keys as RAFTOR_<SECTION>_<KEY> "
                         "(see --help)");
      continue;
    }
    if (auto set = set_from_text(*key->second, config, value); !set) {
      problems.push_back("bad value for " + name + ": " + set.error().message);
    }
  }
  return problems.empty() ? Status{} : invalid(std::move(problems));
}

}  // namespace raftor::node
