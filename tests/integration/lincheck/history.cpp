#include "raftor/tests/integration/lincheck/history.hpp"

#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace raftor::lincheck {
namespace {

using nlohmann::json;
using Error = std::optional<std::string>;  // nullopt: no error

std::string json_quoted(std::string_view s) { return json(s).dump(); }

Error missing(const char* field) { return std::string("missing field \"") + field + "\""; }

Error read_int(const json& obj, const char* field, std::int64_t& out) {
  auto it = obj.find(field);
  if (it == obj.end()) return missing(field);
  if (!it->is_number_integer()) return std::string("field \"") + field + "\" must be an integer";
  if (it->is_number_unsigned() &&
      it->get<std::uint64_t>() > static_cast<std::uint64_t>(kNeverReturned - 1))
    return std::string("field \"") + field + "\" is out of range";
  out = it->get<std::int64_t>();
  return std::nullopt;
}

Error read_string(const json& obj, const char* field, std::string& out) {
  auto it = obj.find(field);
  if (it == obj.end()) return missing(field);
  if (!it->is_string()) return std::string("field \"") + field + "\" must be a string";
  out = it->get<std::string>();
  return std::nullopt;
}

// A present field that is a string or null (null: absent value).
Error read_nullable_string(const json& obj, const char* field, std::optional<std::string>& out) {
  auto it = obj.find(field);
  if (it == obj.end()) return missing(field);
  if (it->is_null()) {
    out.reset();
    return std::nullopt;
  }
  if (!it->is_string()) return std::string("field \"") + field + "\" must be a string or null";
  out = it->get<std::string>();
  return std::nullopt;
}

Error parse_kind(const std::string& f, OpKind& out) {
  if (f == "put") out = OpKind::put;
  else if (f == "get") out = OpKind::get;
  else if (f == "delete") out = OpKind::del;
  else if (f == "cas") out = OpKind::cas;
  else return "unknown f " + json_quoted(f) + " (expected put, get, delete or cas)";
  return std::nullopt;
}

// nlohmann's message names "line 1" of the single-line document; keep only the reason.
std::string json_error(const json::parse_error& e) {
  std::string what = e.what();
  auto reason = what.find(": ", what.find("column"));
  return "invalid JSON at byte " + std::to_string(e.byte) + ": " +
         (reason == std::string::npos ? what : what.substr(reason + 2));
}

// Pairs invokes with completions, one line at a time.
class Parser {
 public:
  Error feed(std::string_view line, std::size_t line_no) {
    json obj;
    try {
      obj = json::parse(line);
    } catch (const json::parse_error& e) {
      return json_error(e);
    }
    if (!obj.is_object()) return std::string("expected a JSON object");

    std::int64_t process = 0, time = 0;
    std::string type, f, key;
    OpKind kind{};
    if (auto e = read_int(obj, "process", process)) return e;
    if (auto e = read_string(obj, "type", type)) return e;
    if (auto e = read_string(obj, "f", f)) return e;
    if (auto e = parse_kind(f, kind)) return e;
    if (auto e = read_string(obj, "key", key)) return e;
    if (auto e = read_int(obj, "time", time)) return e;

    if (type == "invoke") return invoke(obj, process, kind, std::move(key), time, line_no);
    if (type == "ok" || type == "fail" || type == "info")
      return complete(obj, type, process, kind, key, time, line_no);
    return "unknown type " + json_quoted(type) + " (expected invoke, ok, fail or info)";
  }

  History finish() && { return std::move(history_); }

 private:
  Error invoke(const json& obj, std::int64_t process, OpKind kind, std::string key,
               std::int64_t time, std::size_t line_no) {
    if (auto it = outstanding_.find(process); it != outstanding_.end()) {
      const Operation& previous = history_.operations[it->second];
      return "process " + std::to_string(process) + " invoked a new operation while its " +
             std::string(to_string(previous.kind)) + " from line " +
             std::to_string(previous.invoke_line) + " is still outstanding";
    }
    Operation op;
    op.process = process;
    op.kind = kind;
    op.key = std::move(key);
    op.call_time = time;
    op.invoke_line = line_no;
    if (kind == OpKind::put || kind == OpKind::cas) {
      std::string value;
      if (auto e = read_string(obj, "value", value)) return e;
      op.value = std::move(value);
    }
    if (kind == OpKind::cas)
      if (auto e = read_nullable_string(obj, "expected", op.expected)) return e;
    outstanding_[process] = history_.operations.size();
    history_.operations.push_back(std::move(op));
    return std::nullopt;
  }

  Error complete(const json& obj, const std::string& type, std::int64_t process, OpKind kind,
                 const std::string& key, std::int64_t time, std::size_t line_no) {
    auto it = outstanding_.find(process);
    if (it == outstanding_.end())
      return json_quoted(type) + " completion for process " + std::to_string(process) +
             " without an outstanding invoke";
    Operation& op = history_.operations[it->second];
    const std::string from_line = " (invoke on line " + std::to_string(op.invoke_line) + ")";
    if (kind != op.kind)
      return "completion f " + json_quoted(to_string(kind)) + " does not match the invoke's " +
             json_quoted(to_string(op.kind)) + from_line;
    if (key != op.key)
      return "completion key " + json_quoted(key) + " does not match the invoke's " + json_quoted(op.key) +
             from_line;
    if (time < op.call_time)
      return "completion time " + std::to_string(time) + " is before its invoke time " +
             std::to_string(op.call_time) + from_line;

    if (type == "ok") {
      if (kind == OpKind::get)
        if (auto e = read_nullable_string(obj, "value", op.value)) return e;
      if (kind == OpKind::cas) {
        auto s = obj.find("succeeded");
        if (s == obj.end()) return missing("succeeded");
        if (!s->is_boolean()) return std::string("field \"succeeded\" must be true or false");
        op.succeeded = s->get<bool>();
      }
      op.outcome = Outcome::ok;
      op.return_time = time;
    } else if (type == "fail") {
      op.outcome = Outcome::fail;
      op.return_time = time;
    }  // "info": stays unknown, never returns
    op.completion_line = line_no;
    outstanding_.erase(it);
    return std::nullopt;
  }

  History history_;
  std::unordered_map<std::int64_t, std::size_t> outstanding_;  // process -> operation index
};

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

ParseResult parse_history(std::istream& in) {
  Parser parser;
  std::string line;
  for (std::size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (blank(line)) continue;
    if (auto e = parser.feed(line, line_no)) {
      ParseResult failed;
      failed.error = "line " + std::to_string(line_no) + ": " + *e;
      failed.error_line = line_no;
      return failed;
    }
  }
  if (in.bad()) return ParseResult{{}, "read error", 0};
  return ParseResult{std::move(parser).finish(), {}, 0};
}

ParseResult parse_history_text(std::string_view text) {
  std::istringstream in{std::string(text)};
  return parse_history(in);
}

ParseResult parse_history_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ParseResult{{}, "cannot open " + path, 0};
  ParseResult result = parse_history(in);
  if (!result.ok()) result.error = path + ": " + result.error;
  return result;
}

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::put: return "put";
    case OpKind::get: return "get";
    case OpKind::del: return "delete";
    case OpKind::cas: return "cas";
  }
  return "?";
}

std::string describe(const Operation& op) {
  auto value_or_absent = [](const std::optional<std::string>& v) {
    return v ? json_quoted(*v) : std::string("absent");
  };
  std::string text(to_string(op.kind));
  switch (op.kind) {
    case OpKind::put: text += " " + json_quoted(op.value.value_or("")); break;
    case OpKind::get:
      if (op.outcome == Outcome::ok) text += " -> " + value_or_absent(op.value);
      break;
    case OpKind::del: break;
    case OpKind::cas:
      text += " " + value_or_absent(op.expected) + " -> " + json_quoted(op.value.value_or(""));
      if (op.outcome == Outcome::ok) text += op.succeeded ? " succeeded" : " failed";
      break;
  }
  if (op.outcome == Outcome::unknown) text += " (outcome unknown)";
  if (op.outcome == Outcome::fail) text += " (failed)";
  text += " (process " + std::to_string(op.process) + ", line " + std::to_string(op.invoke_line) +
          ", t=[" + std::to_string(op.call_time) + ", " +
          (op.return_time == kNeverReturned ? std::string("inf)") :
                                              std::to_string(op.return_time) + "]") +
          ")";
  return text;
}

}  // namespace raftor::lincheck
