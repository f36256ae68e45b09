// raftor-kvbatch: one raftor client, driven over stdin/stdout by a test harness.
//
//   raftor-kvbatch --endpoints 1@127.0.0.1:7001,... [--timeout-ms 1000] [--deadline-ms 5000]
//
// Reads one JSON request per line on stdin and answers each with one JSON line on stdout
// (flushed), in order; one request at a time (a single client with one request in flight).
//   {"f":"put","key":K,"value":V}                → {"ok":true,"index":N}
//   {"f":"get","key":K[,"consistency":"linearizable|lease|eventual"]}
//                                                → {"ok":true,"found":B,"value":V|null,"index":N}
//   {"f":"cas","key":K,"expected":E|null,"value":V} → {"ok":true,"swapped":B,"index":N}
//   {"f":"del","key":K}                           → {"ok":true,"index":N}
// A request that failed answers {"ok":false,"error":"..."}: for a write its outcome is
// unknown (it may still have been applied). Every answer to a write also has
// "proposed_to": the node ids the write was sent to, in order (retries of the same client
// id and sequence included), so that tests can tell a retried write. Any other field of the
// request ("id", ...) is echoed back. Exits 0 at the end of stdin, 2 for bad arguments.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "raftor/client/client.hpp"
#include "raftor/tools/raftorctl/ctl_args.hpp"

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The nodes the current request's write was proposed to (ClientOptions::on_propose).
std::vector<raftor::NodeId> proposed_to;

json handle(raftor::client::Client& client, const json& req) {
  json out = req;  // echo the caller's fields (id, ...)
  out.erase("f");
  out.erase("key");
  out.erase("value");
  out.erase("expected");
  out.erase("consistency");
  const std::string f = req.value("f", "");
  const std::string key = req.value("key", "");
  proposed_to.clear();
  auto fail = [&](const std::string& error) {
    if (f != "get") out["proposed_to"] = proposed_to;
    out["ok"] = false;
    out["error"] = error;
    return out;
  };
  if (f == "put") {
    auto r = client.put(key, req.value("value", ""));
    if (!r) return fail(r.error().to_string());
    out["ok"] = true;
    out["index"] = *r;
  } else if (f == "del") {
    auto r = client.del(key);
    if (!r) return fail(r.error().to_string());
    out["ok"] = true;
    out["index"] = *r;
  } else if (f == "get") {
    const std::string c = req.value("consistency", "linearizable");
    const auto consistency = c == "lease"      ? raftor::ReadConsistency::lease
                             : c == "eventual" ? raftor::ReadConsistency::eventual
                                               : raftor::ReadConsistency::linearizable;
    auto r = client.get(key, consistency);
    if (!r) return fail(r.error().to_string());
    out["ok"] = true;
    out["found"] = r->value.has_value();
    out["value"] = r->value ? json(*r->value) : json(nullptr);
    out["index"] = r->index;
  } else if (f == "cas") {
    std::optional<std::string> expected;
    if (req.contains("expected") && !req["expected"].is_null()) expected = req["expected"].get<std::string>();
    auto r = client.cas(key, expected ? std::optional<std::string_view>(*expected) : std::nullopt,
                        req.value("value", ""));
    if (!r) return fail(r.error().to_string());
    out["ok"] = true;
    out["swapped"] = r->swapped;
    out["index"] = r->index;
  } else {
    return fail("unknown request '" + f + "'");
  }
  if (f != "get") out["proposed_to"] = proposed_to;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string endpoints;
  long long timeout_ms = 1000, deadline_ms = 5000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "raftor-kvbatch: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--endpoints") endpoints = next();
    else if (a == "--timeout-ms") timeout_ms = std::atoll(next().c_str());
    else if (a == "--deadline-ms") deadline_ms = std::atoll(next().c_str());
    else {
      std::fprintf(stderr, "usage: raftor-kvbatch --endpoints ID@HOST:PORT,... [--timeout-ms N] [--deadline-ms N]\n");
      return 2;
    }
  }
  auto parsed = raftor::ctl::parse_endpoints(endpoints);  // as raftorctl reads them
  if (!parsed || timeout_ms <= 0 || deadline_ms <= 0) {
    std::fprintf(stderr, "raftor-kvbatch: bad --endpoints/--timeout-ms/--deadline-ms\n");
    return 2;
  }
  raftor::client::ClientOptions options;
  options.request_timeout = std::chrono::milliseconds(timeout_ms);
  options.deadline = std::chrono::milliseconds(deadline_ms);
  options.on_propose = [](raftor::NodeId node, const std::string&) { proposed_to.push_back(node); };
  raftor::client::Client client(std::move(parsed).value(), options);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    json req = json::parse(line, nullptr, false);
    json out;
    if (req.is_discarded() || !req.is_object()) {
      out = {{"ok", false}, {"error", "bad request line"}};
    } else {
      out = handle(client, req);
    }
    std::cout << dump(out) << '\n' << std::flush;
  }
  return 0;
}
