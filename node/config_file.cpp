#include "raftor/node/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <toml.hpp>

#include "raftor/node/config_keys.hpp"

namespace raftor::node {

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};

std::string_view type_name(const toml::value& value) {
  switch (value.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    case toml::value_t::empty: return "nothing";
    default: return "a date/time";
  }
}

// Where a problem is, for messages: "'raft.tick_ms' in node1.toml".
struct Place {
  const ConfigKey& key;
  std::string_view file;

  std::string wrong_type(const toml::value& value) const {
    return "wrong type for '" + key.path() + "' in " + std::string(file) + ": expected " +
           expected_type(key) + ", got " + std::string(type_name(value));
  }
  std::string bad_value(std::string_view detail) const {
    return "bad value for '" + key.path() + "' in " + std::string(file) + ": " +
           std::string(detail);
  }
};

template <class Int>
std::optional<std::string> set_integer(const Place& place, const toml::value& value, Int& out) {
  if (!value.is_integer()) return place.wrong_type(value);
  const toml::integer number = value.as_integer();
  if (number < 0 || static_cast<std::uint64_t>(number) > std::numeric_limits<Int>::max()) {
    return place.bad_value("expected " + expected_type(place.key) + ", got " +
                           std::to_string(number));
  }
  out = static_cast<Int>(number);
  return std::nullopt;
}

// Sets the key's field from a TOML value, or says what is wrong with it.
std::optional<std::string> set_from_toml(const Place& place, const toml::value& value,
                                         NodeConfig& config) {
  using Problem = std::optional<std::string>;
  return std::visit(
      Overloaded{
          [&](std::uint64_t* field) { return set_integer(place, value, *field); },
          [&](std::uint32_t* field) { return set_integer(place, value, *field); },
          [&](bool* field) -> Problem {
            if (!value.is_boolean()) return place.wrong_type(value);
            *field = value.as_boolean();
            return std::nullopt;
          },
          [&](std::string* field) -> Problem {
            if (!value.is_string()) return place.wrong_type(value);
            *field = value.as_string().str;
            return std::nullopt;
          },
          [&](std::filesystem::path* field) -> Problem {
            if (!value.is_string()) return place.wrong_type(value);
            *field = value.as_string().str;
            return std::nullopt;
          },
          [&](HostPort* field) -> Problem {
            if (!value.is_string()) return place.wrong_type(value);
            auto parsed = parse_host_port(value.as_string().str);
            if (!parsed) return place.bad_value(parsed.error().message);
            *field = std::move(*parsed);
            return std::nullopt;
          },
          [&](std::vector<PeerAddress>* field) -> Problem {
            if (!value.is_array()) return place.wrong_type(value);
            std::vector<PeerAddress> peers;
            for (const toml::value& item : value.as_array()) {
              if (!item.is_string()) return place.wrong_type(item);
              auto peer = parse_peer_address(item.as_string().str);
              if (!peer) return place.bad_value(peer.error().message);
              peers.push_back(std::move(*peer));
            }
            *field = std::move(peers);
            return std::nullopt;
          },
      },
      place.key.field(config));
}

template <class Table>
std::vector<std::string> sorted_keys(const Table& table) {
  std::vector<std::string> keys;
  for (const auto& [name, value] : table) keys.push_back(name);
  std::sort(keys.begin(), keys.end());  // the table is unordered: report in a stable order
  return keys;
}

// Every problem of the document, applying what is right to `config`.
std::vector<std::string> apply_document(const toml::value& root, std::string_view file,
                                        NodeConfig& config) {
  std::vector<std::string> problems;
  const auto& sections = root.as_table();
  for (const std::string& section : sorted_keys(sections)) {
    const toml::value& table = sections.at(section);
    if (!is_config_section(section)) {
      problems.push_back("unknown key '" + section + "' in " + std::string(file));
      continue;
    }
    if (!table.is_table()) {
      problems.push_back("wrong type for '" + section + "' in " + std::string(file) +
                         ": expected a table ([" + section + "]), got " +
                         std::string(type_name(table)));
      continue;
    }
    for (const std::string& name : sorted_keys(table.as_table())) {
      const ConfigKey* key = find_config_key(section, name);
      if (key == nullptr) {
        problems.push_back("unknown key '" + section + "." + name + "' in " + std::string(file));
        continue;
      }
      if (auto problem = set_from_toml(Place{*key, file}, table.as_table().at(name), config)) {
        problems.push_back(std::move(*problem));
      }
    }
  }
  return problems;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

}  // namespace

Status apply_config_text(std::string_view toml_text, std::string_view file_name,
                         NodeConfig& config) {
  // toml11 reports syntax errors by throwing; nothing is thrown past this function.
  try {
    std::istringstream in{std::string(toml_text)};
    const toml::value root = toml::parse(in, std::string(file_name));
    NodeConfig updated = config;
    const std::vector<std::string> problems = apply_document(root, file_name, updated);
    if (!problems.empty()) return make_error(ErrorCode::invalid_argument, join_lines(problems));
    config = std::move(updated);
    return {};
  } catch (const std::exception& e) {
    return make_error(ErrorCode::invalid_argument,
                      "cannot parse " + std::string(file_name) + ": " + e.what());
  }
}

Status apply_config_file(const std::filesystem::path& file, NodeConfig& config) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return make_error(ErrorCode::io_error,
                      "cannot read config file " + file.string() + ": it is a directory");
  }
  std::ifstream in(file, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  if (!in.is_open() || in.bad()) {
    return make_error(ErrorCode::io_error, "cannot read config file " + file.string() + ": " +
                                               std::strerror(errno));
  }
  return apply_config_text(text, file.string(), config);
}

}  // namespace raftor::node
