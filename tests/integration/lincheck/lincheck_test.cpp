// Unit tests of the linearizability checker: hand-written histories with known verdicts,
// parser errors, and random histories that are linearizable by construction.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "raftor/tests/integration/lincheck/checker.hpp"
#include "raftor/tests/integration/lincheck/history.hpp"

namespace raftor::lincheck {
namespace {

using nlohmann::json;
using std::nullopt;

// Writes a JSON-lines history; every event happens one tick after the previous one.
class Recorder {
 public:
  Recorder& put(int p, const std::string& key, const std::string& value) {
    return invoke(p, "put", key, {{"value", value}});
  }
  Recorder& get(int p, const std::string& key) { return invoke(p, "get", key, {}); }
  Recorder& del(int p, const std::string& key) { return invoke(p, "delete", key, {}); }
  Recorder& cas(int p, const std::string& key, std::optional<std::string> expected,
                const std::string& value) {
    return invoke(p, "cas", key,
                  {{"expected", expected ? json(*expected) : json(nullptr)}, {"value", value}});
  }

  Recorder& ok(int p) { return complete(p, "ok", {}); }
  Recorder& ok_read(int p, std::optional<std::string> value) {
    return complete(p, "ok", {{"value", value ? json(*value) : json(nullptr)}});
  }
  Recorder& ok_cas(int p, bool succeeded) { return complete(p, "ok", {{"succeeded", succeeded}}); }
  Recorder& fail(int p) { return complete(p, "fail", {}); }
  Recorder& info(int p) { return complete(p, "info", {}); }

  std::string text() const {
    std::string out;
    for (const json& line : lines_) out += line.dump() + "\n";
    return out;
  }

  CheckResult check(CheckOptions options = {}) const {
    ParseResult parsed = parse_history_text(text());
    EXPECT_TRUE(parsed.ok()) << parsed.error;
    return lincheck::check(parsed.history, options);
  }

 private:
  Recorder& invoke(int p, const std::string& f, const std::string& key, json fields) {
    fields.update({{"process", p}, {"type", "invoke"}, {"f", f}, {"key", key}, {"time", ++now_}});
    lines_.push_back(std::move(fields));
    outstanding_[p] = {f, key};
    return *this;
  }
  Recorder& complete(int p, const std::string& type, json fields) {
    auto [f, key] = outstanding_.at(p);
    fields.update({{"process", p}, {"type", type}, {"f", f}, {"key", key}, {"time", ++now_}});
    lines_.push_back(std::move(fields));
    outstanding_.erase(p);
    return *this;
  }

  std::vector<json> lines_;
  std::map<int, std::pair<std::string, std::string>> outstanding_;
  std::int64_t now_ = 0;
};

void expect_linearizable(const CheckResult& result) {
  EXPECT_EQ(result.verdict, Verdict::linearizable) << result.explanation;
  EXPECT_TRUE(result.linearizable);
  EXPECT_TRUE(result.explanation.empty());
}

void expect_violation(const CheckResult& result, const std::string& key) {
  EXPECT_EQ(result.verdict, Verdict::not_linearizable);
  EXPECT_FALSE(result.linearizable);
  EXPECT_EQ(result.failed_key, key);
  EXPECT_FALSE(result.explanation.empty());
}

// ---- Known-good histories -----------------------------------------------------------------

TEST(LincheckGood, EmptyHistory) {
  CheckResult result = Recorder().check();
  expect_linearizable(result);
  EXPECT_EQ(result.stats.operations, 0u);
  EXPECT_EQ(result.stats.keys, 0u);
}

TEST(LincheckGood, SequentialOperationsOfEveryKind) {
  Recorder r;
  r.get(1, "k").ok_read(1, nullopt);
  r.put(1, "k", "a").ok(1).get(1, "k").ok_read(1, "a");
  r.put(2, "k", "b").ok(2).get(1, "k").ok_read(1, "b");
  r.del(1, "k").ok(1).get(2, "k").ok_read(2, nullopt);
  r.cas(1, "k", nullopt, "c").ok_cas(1, true).get(1, "k").ok_read(1, "c");
  r.cas(2, "k", "x", "d").ok_cas(2, false).get(2, "k").ok_read(2, "c");
  CheckResult result = r.check();
  expect_linearizable(result);
  EXPECT_EQ(result.stats.operations, 11u);
  EXPECT_EQ(result.stats.keys, 1u);
  EXPECT_EQ(result.stats.states_explored, 11u);  // sequential: no backtracking
}

TEST(LincheckGood, ReadConcurrentWithPutMaySeeEitherValue) {
  for (const char* seen : {"old", "new"}) {
    Recorder r;
    r.put(1, "k", "old").ok(1);
    r.put(1, "k", "new").get(2, "k").ok_read(2, seen).ok(1);
    expect_linearizable(r.check());
  }
}

TEST(LincheckGood, OverlappingReadsMayDisagreeWhileAPutIsInFlight) {
  // Both reads overlap the put and each other: order "old" read, put, "new" read.
  Recorder r;
  r.put(1, "k", "old").ok(1);
  r.put(1, "k", "new").get(2, "k").get(3, "k").ok_read(2, "new").ok_read(3, "old").ok(1);
  expect_linearizable(r.check());
}

TEST(LincheckGood, ConcurrentPutsMayLandInEitherOrder) {
  for (const char* last : {"a", "b"}) {
    Recorder r;
    r.put(1, "k", "a").put(2, "k", "b").ok(2).ok(1);
    r.get(3, "k").ok_read(3, last).get(3, "k").ok_read(3, last);
    expect_linearizable(r.check());
  }
}

TEST(LincheckGood, UnknownPutThatTookEffect) {
  Recorder r;
  r.put(1, "k", "a").ok(1).put(2, "k", "b").info(2);
  r.get(3, "k").ok_read(3, "a").get(3, "k").ok_read(3, "b");  // took effect late
  CheckResult result = r.check();
  expect_linearizable(result);
  EXPECT_EQ(result.stats.unknown_writes, 1u);
}

TEST(LincheckGood, UnknownPutThatNeverTookEffect) {
  Recorder r;
  r.put(1, "k", "a").ok(1).put(2, "k", "b").info(2);
  r.get(3, "k").ok_read(3, "a").put(3, "k", "c").ok(3).get(3, "k").ok_read(3, "c");
  expect_linearizable(r.check());
}

TEST(LincheckGood, OperationWithoutCompletionMayTakeEffectOrNot) {
  for (const char* seen : {"a", "b"}) {
    Recorder r;
    r.put(1, "k", "a").ok(1).put(2, "k", "b");  // process 2 never hears back
    r.get(3, "k").ok_read(3, seen);
    expect_linearizable(r.check());
  }
}

TEST(LincheckGood, UnknownCasAndDeleteMayTakeEffectOrNot) {
  Recorder r;
  r.put(1, "k", "a").ok(1).cas(2, "k", "a", "b").info(2).del(4, "k").info(4);
  r.get(3, "k").ok_read(3, "a").get(3, "k").ok_read(3, "b").get(3, "k").ok_read(3, nullopt);
  expect_linearizable(r.check());
}

TEST(LincheckGood, FailedOperationsAndUnknownReadsAreIgnored) {
  Recorder r;
  r.put(1, "k", "a").ok(1).put(2, "k", "b").fail(2).del(2, "k").fail(2);
  r.cas(2, "k", "a", "c").fail(2).get(3, "k").info(3).get(4, "k").fail(4);
  r.get(1, "k").ok_read(1, "a");
  CheckResult result = r.check();
  expect_linearizable(result);
  EXPECT_EQ(result.stats.failed_dropped, 4u);
  EXPECT_EQ(result.stats.unknown_reads_dropped, 1u);
}

TEST(LincheckGood, CasChain) {
  Recorder r;
  r.put(1, "k", "0").ok(1);
  r.cas(1, "k", "0", "1").ok_cas(1, true).cas(2, "k", "1", "2").ok_cas(2, true);
  r.cas(3, "k", "1", "3").ok_cas(3, false).get(1, "k").ok_read(1, "2");
  r.cas(1, "k", "2", "3").ok_cas(1, true).get(2, "k").ok_read(2, "3");
  expect_linearizable(r.check());
}

TEST(LincheckGood, ConcurrentCasFromTheSameValueOneWins) {
  Recorder r;
  r.put(1, "k", "0").ok(1);
  r.cas(1, "k", "0", "x").cas(2, "k", "0", "y").ok_cas(2, true).ok_cas(1, false);
  r.get(3, "k").ok_read(3, "y");
  expect_linearizable(r.check());
}

TEST(LincheckGood, KeysAreIndependentRegisters) {
  Recorder r;
  r.put(1, "a", "1").put(2, "b", "1").ok(1).ok(2);
  r.get(1, "a").ok_read(1, "1").get(2, "b").ok_read(2, "1").get(3, "c").ok_read(3, nullopt);
  CheckResult result = r.check();
  expect_linearizable(result);
  ASSERT_EQ(result.keys.size(), 3u);
  EXPECT_EQ(result.keys[0].key, "a");
  EXPECT_EQ(result.keys[2].key, "c");
}

// ---- Known violations ---------------------------------------------------------------------

TEST(LincheckViolation, StaleRead) {
  Recorder r;
  r.put(1, "k", "old").ok(1).put(1, "k", "new").ok(1);
  r.get(2, "k").ok_read(2, "old");
  CheckResult result = r.check();
  expect_violation(result, "k");
  EXPECT_NE(result.explanation.find("get -> \"old\""), std::string::npos) << result.explanation;
  EXPECT_NE(result.explanation.find("value then \"new\", written on line 3"), std::string::npos)
      << result.explanation;
}

TEST(LincheckViolation, NewThenOldReadInversion) {
  // Both reads overlap the put, but the "new" read returns before the "old" one starts.
  Recorder r;
  r.put(1, "k", "old").ok(1);
  r.put(1, "k", "new").get(2, "k").ok_read(2, "new").get(3, "k").ok_read(3, "old").ok(1);
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, LostWriteNeverVisible) {
  Recorder r;
  r.put(1, "k", "a").ok(1).get(2, "k").ok_read(2, nullopt);
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, LostWriteContradictedByLaterReads) {
  // Concurrent puts: whichever landed last must stay; reading "a" then "b" needs both orders.
  Recorder r;
  r.put(1, "k", "a").put(2, "k", "b").ok(1).ok(2);
  r.get(3, "k").ok_read(3, "a").get(3, "k").ok_read(3, "b");
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, ReadOfAValueNeverWritten) {
  Recorder r;
  r.put(1, "k", "a").ok(1).get(2, "k").ok_read(2, "ghost");
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, ReadOfAFailedWrite) {
  Recorder r;
  r.put(1, "k", "a").ok(1).put(2, "k", "b").fail(2).get(3, "k").ok_read(3, "b");
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, UnknownWriteTakesEffectAtMostOnce) {
  Recorder r;
  r.put(1, "k", "a").ok(1).put(2, "k", "b").info(2);
  r.get(3, "k").ok_read(3, "b").get(3, "k").ok_read(3, "a");  // "a" is not written again
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, TwoConcurrentCasFromTheSameValueBothSucceed) {
  Recorder r;
  r.put(1, "k", "0").ok(1);
  r.cas(1, "k", "0", "x").cas(2, "k", "0", "y").ok_cas(1, true).ok_cas(2, true);
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, FailedCasThatShouldHaveMatched) {
  Recorder r;
  r.put(1, "k", "0").ok(1).cas(2, "k", "0", "1").ok_cas(2, false);
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, ReadOfADeletedKeyReturnsTheOldValue) {
  Recorder r;
  r.put(1, "k", "a").ok(1).del(1, "k").ok(1).get(2, "k").ok_read(2, "a");
  expect_violation(r.check(), "k");
}

TEST(LincheckViolation, OnlyTheBrokenKeyIsReported) {
  Recorder r;
  r.put(1, "good", "1").ok(1).put(1, "bad", "1").ok(1);
  r.get(2, "good").ok_read(2, "1").get(2, "bad").ok_read(2, "2");
  CheckResult result = r.check();
  expect_violation(result, "bad");
  ASSERT_EQ(result.keys.size(), 2u);
  EXPECT_EQ(result.keys[0].verdict, Verdict::not_linearizable);  // "bad" sorts first
  EXPECT_EQ(result.keys[1].verdict, Verdict::linearizable);
}

TEST(LincheckBudget, ExhaustedBudgetIsUnknownNotAVerdict) {
  // Twelve overlapping puts, then two reads that no order of them explains: refuting this
  // needs every subset of the puts.
  Recorder r;
  for (int p = 1; p <= 12; ++p) r.put(p, "k", "v" + std::to_string(p));
  for (int p = 1; p <= 12; ++p) r.ok(p);
  r.get(20, "k").ok_read(20, "v1").get(20, "k").ok_read(20, "v2");
  CheckResult limited = r.check({.max_states_per_key = 100});
  EXPECT_EQ(limited.verdict, Verdict::unknown);
  EXPECT_FALSE(limited.linearizable);
  EXPECT_NE(limited.explanation.find("budget exhausted"), std::string::npos);
  EXPECT_EQ(r.check().verdict, Verdict::not_linearizable);
}

TEST(LincheckUnknownWrites, ManyIdenticalUnknownPutsStayCheap) {
  // Forty puts with unknown outcome never return and a failed cas keeps them all in play;
  // taking identical ones in call order keeps the search linear instead of 2^40.
  Recorder r;
  r.put(1, "k", "a").ok(1);
  for (int p = 2; p <= 41; ++p) r.put(p, "k", "x").info(p);
  r.cas(1, "k", "b", "c").ok_cas(1, false).get(1, "k").ok_read(1, "x");
  r.get(1, "k").ok_read(1, "a");  // needs "a" again after "x": nothing writes it twice
  CheckResult result = r.check({.max_states_per_key = 10'000});
  EXPECT_EQ(result.verdict, Verdict::not_linearizable) << result.explanation;
}

TEST(LincheckUnknownWrites, UnreadUnknownPutCanExplainAFailedCas) {
  // Nobody reads "v", but the cas can only fail if the put of "v" took effect.
  Recorder r;
  r.put(1, "k", "x").ok(1).put(2, "k", "v").info(2).cas(1, "k", "x", "y").ok_cas(1, false);
  expect_linearizable(r.check());
  Recorder without_the_put;
  without_the_put.put(1, "k", "x").ok(1).cas(1, "k", "x", "y").ok_cas(1, false);
  expect_violation(without_the_put.check(), "k");
}

TEST(LincheckUnknownWrites, ReadBeforeTheUnknownPutWasInvoked) {
  Recorder r;
  r.put(1, "k", "a").ok(1).get(2, "k").ok_read(2, "b").put(3, "k", "b").info(3);
  expect_violation(r.check(), "k");
}

TEST(LincheckUnknownWrites, UnknownCasTakesEffectOnlyIfItMatches) {
  Recorder r;
  r.put(1, "k", "a").ok(1).cas(2, "k", "z", "b").info(2).get(1, "k").ok_read(1, "b");
  expect_violation(r.check(), "k");
  Recorder matching;
  matching.put(1, "k", "a").ok(1).cas(2, "k", "a", "b").info(2).get(1, "k").ok_read(1, "b");
  expect_linearizable(matching.check());
}

// ---- Parser errors ------------------------------------------------------------------------

ParseResult parse(const std::string& text) { return parse_history_text(text); }

void expect_parse_error(const std::string& text, std::size_t line, const std::string& words) {
  ParseResult result = parse(text);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error_line, line) << result.error;
  EXPECT_EQ(result.error.rfind("line " + std::to_string(line) + ": ", 0), 0u) << result.error;
  EXPECT_NE(result.error.find(words), std::string::npos) << result.error;
}

const std::string kPutInvoke =
    R"({"process":1,"type":"invoke","f":"put","key":"k","value":"a","time":1})"
    "\n";

TEST(LincheckParser, ValidHistoryPairsInvokesWithCompletions) {
  ParseResult result = parse(kPutInvoke + "\n" +
                             R"({"process":1,"type":"ok","f":"put","key":"k","time":5})");
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.history.operations.size(), 1u);
  const Operation& op = result.history.operations[0];
  EXPECT_EQ(op.outcome, Outcome::ok);
  EXPECT_EQ(op.value, "a");
  EXPECT_EQ(op.call_time, 1);
  EXPECT_EQ(op.return_time, 5);
  EXPECT_EQ(op.completion_line, 3u);  // blank lines count
}

TEST(LincheckParser, InvokeWithoutCompletionIsUnknown) {
  ParseResult result = parse(kPutInvoke);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.history.operations[0].outcome, Outcome::unknown);
  EXPECT_EQ(result.history.operations[0].return_time, kNeverReturned);
}

TEST(LincheckParser, BadJson) {
  expect_parse_error(kPutInvoke + R"({"process":1,"type":"ok",)", 2, "invalid JSON");
  expect_parse_error("[1, 2]\n", 1, "expected a JSON object");
}

TEST(LincheckParser, MissingOrMistypedFields) {
  expect_parse_error(R"({"process":1,"type":"invoke","f":"put","value":"a","time":1})", 1,
                     "missing field \"key\"");
  expect_parse_error(R"({"process":1,"type":"invoke","f":"put","key":"k","time":1})", 1,
                     "missing field \"value\"");
  expect_parse_error(R"({"process":1,"type":"invoke","f":"put","key":"k","value":"a","time":"1"})",
                     1, "\"time\" must be an integer");
  expect_parse_error(R"({"process":1,"type":"invoke","f":"cas","key":"k","value":"a","time":1})",
                     1, "missing field \"expected\"");
  expect_parse_error(R"({"process":1,"type":"invoke","f":"incr","key":"k","time":1})", 1,
                     "unknown f");
  expect_parse_error(R"({"process":1,"type":"done","f":"get","key":"k","time":1})", 1,
                     "unknown type");
}

TEST(LincheckParser, CompletionWithoutInvoke) {
  expect_parse_error(R"({"process":1,"type":"ok","f":"put","key":"k","time":1})", 1,
                     "without an outstanding invoke");
}

TEST(LincheckParser, CompletionMustMatchItsInvoke) {
  expect_parse_error(kPutInvoke + R"({"process":1,"type":"ok","f":"get","key":"k","time":2})",
                     2, "does not match");
  expect_parse_error(kPutInvoke + R"({"process":1,"type":"ok","f":"put","key":"j","time":2})",
                     2, "does not match");
  expect_parse_error(kPutInvoke + R"({"process":1,"type":"ok","f":"put","key":"k","time":0})",
                     2, "before its invoke");
}

TEST(LincheckParser, ResultFieldsOfCompletions) {
  const std::string get = R"({"process":1,"type":"invoke","f":"get","key":"k","time":1})" "\n";
  expect_parse_error(get + R"({"process":1,"type":"ok","f":"get","key":"k","time":2})", 2,
                     "missing field \"value\"");
  const std::string cas =
      R"({"process":1,"type":"invoke","f":"cas","key":"k","expected":null,"value":"a","time":1})"
      "\n";
  expect_parse_error(cas + R"({"process":1,"type":"ok","f":"cas","key":"k","time":2})", 2,
                     "missing field \"succeeded\"");
}

TEST(LincheckParser, OneOutstandingOperationPerProcess) {
  expect_parse_error(kPutInvoke + kPutInvoke, 2, "still outstanding");
}

TEST(LincheckParser, UnreadableFile) {
  ParseResult result = parse_history_file("/nonexistent/history.jsonl");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("cannot open"), std::string::npos);
}

// ---- Random histories, linearizable by construction ---------------------------------------

// Clients run against one real register per key. Each operation takes effect at one instant
// strictly between its invoke and its completion (or not at all when it fails), so the
// recorded history is linearizable by construction.
class RandomHistory {
 public:
  struct Config {
    int processes = 5;
    int keys = 3;
    int operations = 200;
  };

  RandomHistory(std::uint32_t seed, Config config) : rng_(seed), config_(config) {
    generate();
  }

  std::string text() const {
    std::string out;
    for (const json& line : lines_) out += line.dump() + "\n";
    return out;
  }

  // Makes one completed read return a value no operation ever wrote; false if none exists.
  bool corrupt_one_read() {
    std::vector<json*> reads;
    for (json& line : lines_)
      if (line["type"] == "ok" && line["f"] == "get") reads.push_back(&line);
    if (reads.empty()) return false;
    (*reads[pick(reads.size())])["value"] = "never-written";
    return true;
  }

  // Makes one completed read return the value of a put invoked only after the read returned.
  bool make_one_read_see_the_future() {
    std::vector<std::pair<std::size_t, std::size_t>> candidates;  // (read line, put line)
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (lines_[i]["type"] != "ok" || lines_[i]["f"] != "get") continue;
      for (std::size_t j = i + 1; j < lines_.size(); ++j)
        if (lines_[j]["type"] == "invoke" && lines_[j]["f"] == "put" &&
            lines_[j]["key"] == lines_[i]["key"]) {
          candidates.emplace_back(i, j);
          break;
        }
    }
    if (candidates.empty()) return false;
    auto [read, put] = candidates[pick(candidates.size())];
    lines_[read]["value"] = lines_[put]["value"];
    return true;
  }

 private:
  enum class Phase { idle, invoked, applied };
  struct Client {
    Phase phase = Phase::idle;
    json invoke;
    json result;  // fields of the ok completion, known once applied
  };

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  json as_json(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }

  void emit(json line) {
    now_ += 1 + static_cast<std::int64_t>(pick(3));
    line["time"] = now_;
    lines_.push_back(std::move(line));
  }

  void complete(int p, Client& c, const std::string& type) {
    json line = {{"process", p}, {"type", type}, {"f", c.invoke["f"]}, {"key", c.invoke["key"]}};
    if (type == "ok") line.update(c.result);
    emit(std::move(line));
    c.phase = Phase::idle;
  }

  void invoke(int p, Client& c) {
    const std::string key = "k" + std::to_string(pick(config_.keys));
    const std::string value = "v" + std::to_string(++written_);
    c.invoke = {{"process", p}, {"type", "invoke"}, {"key", key}};
    const std::size_t roll = pick(100);
    if (roll < 35) {
      c.invoke.update({{"f", "put"}, {"value", value}});
    } else if (roll < 70) {
      c.invoke["f"] = "get";
    } else if (roll < 80) {
      c.invoke["f"] = "delete";
    } else {  // cas, usually from the current value so that it often succeeds
      std::optional<std::string> expected = registers_[key];
      if (chance(0.3)) expected = chance(0.5) ? std::nullopt : std::optional<std::string>("v1");
      c.invoke.update({{"f", "cas"}, {"expected", as_json(expected)}, {"value", value}});
    }
    emit(c.invoke);
    c.phase = Phase::invoked;
  }

  // The instant the operation takes effect on the real register.
  void apply(Client& c) {
    std::optional<std::string>& reg = registers_[c.invoke["key"].get<std::string>()];
    const std::string f = c.invoke["f"];
    c.result = json::object();
    if (f == "put") reg = c.invoke["value"].get<std::string>();
    if (f == "delete") reg.reset();
    if (f == "get") c.result["value"] = as_json(reg);
    if (f == "cas") {
      const json& expected = c.invoke["expected"];
      const bool matches = expected.is_null() ? !reg : reg == expected.get<std::string>();
      if (matches) reg = c.invoke["value"].get<std::string>();
      c.result["succeeded"] = matches;
    }
    c.phase = Phase::applied;
  }

  void generate() {
    std::vector<Client> clients(static_cast<std::size_t>(config_.processes));
    int invoked = 0;
    auto busy = [&] {
      for (const Client& c : clients)
        if (c.phase != Phase::idle) return true;
      return false;
    };
    while (invoked < config_.operations || busy()) {
      const int p = static_cast<int>(pick(clients.size()));
      Client& c = clients[static_cast<std::size_t>(p)];
      switch (c.phase) {
        case Phase::idle:
          if (invoked < config_.operations) {
            invoke(p, c);
            ++invoked;
          }
          break;
        case Phase::invoked:
          if (chance(0.05)) complete(p, c, "fail");       // never took effect
          else if (chance(0.03)) complete(p, c, "info");  // lost before taking effect
          else apply(c);
          break;
        case Phase::applied:
          if (chance(0.03)) complete(p, c, "info");  // took effect, reply lost
          else complete(p, c, "ok");
          break;
      }
    }
  }

  std::mt19937 rng_;
  Config config_;
  std::vector<json> lines_;
  std::map<std::string, std::optional<std::string>> registers_;
  std::int64_t now_ = 0;
  int written_ = 0;
};

CheckResult parse_and_check(const std::string& text) {
  ParseResult parsed = parse_history_text(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  return check(parsed.history);
}

TEST(LincheckRandom, HistoriesOfARealRegisterAreLinearizable) {
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    RandomHistory history(seed, {});
    CheckResult result = parse_and_check(history.text());
    ASSERT_TRUE(result.linearizable) << "seed " << seed << ": " << result.explanation;
  }
}

TEST(LincheckRandom, AReadOfANeverWrittenValueIsCaught) {
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    RandomHistory history(seed, {});
    ASSERT_TRUE(history.corrupt_one_read()) << "seed " << seed;
    CheckResult result = parse_and_check(history.text());
    ASSERT_EQ(result.verdict, Verdict::not_linearizable) << "seed " << seed;
  }
}

TEST(LincheckRandom, AReadOfALaterWriteIsCaught) {
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    RandomHistory history(seed, {});
    ASSERT_TRUE(history.make_one_read_see_the_future()) << "seed " << seed;
    CheckResult result = parse_and_check(history.text());
    ASSERT_EQ(result.verdict, Verdict::not_linearizable) << "seed " << seed;
  }
}

TEST(LincheckRandom, TenThousandOperationsOverOneHundredKeys) {
  RandomHistory history(42, {.processes = 20, .keys = 100, .operations = 10'000});
  ParseResult parsed = parse_history_text(history.text());
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  const auto start = std::chrono::steady_clock::now();
  CheckResult result = check(parsed.history);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.linearizable) << result.explanation;
  EXPECT_EQ(result.stats.operations, 10'000u);
  EXPECT_EQ(result.stats.keys, 100u);
  std::cout << "[ lincheck ] 10k ops / 100 keys checked in "
            << std::chrono::duration<double, std::milli>(elapsed).count() << " ms, "
            << result.stats.states_explored << " states\n";

  ASSERT_TRUE(history.corrupt_one_read());
  EXPECT_EQ(parse_and_check(history.text()).verdict, Verdict::not_linearizable);
}

// ---- Cross-check against brute force on tiny histories -----------------------------------

// An independent oracle: every order of the ok operations plus every subset of the unknown
// writes, checked against real-time order and a plain register.
bool brute_force_linearizable(const History& history) {
  std::vector<const Operation*> known, unknown;
  for (const Operation& op : history.operations) {
    if (op.outcome == Outcome::ok) known.push_back(&op);
    if (op.outcome == Outcome::unknown && op.kind != OpKind::get) unknown.push_back(&op);
  }
  auto valid = [](const std::vector<const Operation*>& order) {
    for (std::size_t i = 0; i < order.size(); ++i)
      for (std::size_t j = i + 1; j < order.size(); ++j)
        if (order[j]->return_time < order[i]->call_time) return false;
    std::optional<std::string> reg;
    for (const Operation* op : order) {
      switch (op->kind) {
        case OpKind::put: reg = op->value; break;
        case OpKind::del: reg.reset(); break;
        case OpKind::get:
          if (reg != op->value) return false;
          break;
        case OpKind::cas: {
          const bool matches = reg == op->expected;
          if (op->outcome == Outcome::ok && op->succeeded != matches) return false;
          if (matches) reg = op->value;
          break;
        }
      }
    }
    return true;
  };
  for (unsigned mask = 0; mask < (1u << unknown.size()); ++mask) {
    std::vector<const Operation*> order = known;
    for (std::size_t i = 0; i < unknown.size(); ++i)
      if (mask >> i & 1) order.push_back(unknown[i]);
    std::sort(order.begin(), order.end());
    do {
      if (valid(order)) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

// Up to six operations of three clients on one key over three values, results taken from a
// real register but often corrupted, so that both verdicts are common.
std::string tiny_random_history(std::mt19937& rng) {
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::vector<json> values = {"a", "b", "c", nullptr};
  auto random_value = [&](bool allow_null) { return values[pick(allow_null ? 4 : 3)]; };

  std::vector<json> lines;
  std::int64_t now = 0;
  auto emit = [&](json line) {
    line["time"] = now += static_cast<std::int64_t>(pick(2));  // equal times happen too
    lines.push_back(std::move(line));
  };
  std::optional<std::string> reg;
  struct Client {
    int phase = 0;  // 0 idle, 1 invoked, 2 applied
    json invoke, result;
  };
  std::vector<Client> clients(3);
  const int operations = 1 + static_cast<int>(pick(6));
  int invoked = 0;
  for (int steps = 0; steps < 200; ++steps) {
    const int p = static_cast<int>(pick(3));
    Client& c = clients[static_cast<std::size_t>(p)];
    const json head = {{"process", p}, {"key", "k"}};
    if (c.phase == 0 && invoked < operations) {
      ++invoked;
      c.invoke = head;
      c.invoke["type"] = "invoke";
      const char* f[] = {"put", "get", "delete", "cas"};
      c.invoke["f"] = f[pick(4)];
      if (c.invoke["f"] == "put" || c.invoke["f"] == "cas") c.invoke["value"] = random_value(false);
      if (c.invoke["f"] == "cas") c.invoke["expected"] = random_value(true);
      emit(c.invoke);
      c.phase = 1;
    } else if (c.phase == 1) {
      if (chance(0.15)) {  // never took effect
        json done = head;
        done.update({{"type", chance(0.5) ? "fail" : "info"}, {"f", c.invoke["f"]}});
        emit(done);
        c.phase = 0;
        continue;
      }
      const std::string f = c.invoke["f"];
      c.result = json::object();
      if (f == "put") reg = c.invoke["value"].get<std::string>();
      if (f == "delete") reg.reset();
      if (f == "get") c.result["value"] = reg ? json(*reg) : json(nullptr);
      if (f == "cas") {
        const json& expected = c.invoke["expected"];
        const bool matches = expected.is_null() ? !reg : reg == expected.get<std::string>();
        if (matches) reg = c.invoke["value"].get<std::string>();
        c.result["succeeded"] = matches;
      }
      if (chance(0.2) && f == "get") c.result["value"] = random_value(true);
      if (chance(0.2) && f == "cas") c.result["succeeded"] = !c.result["succeeded"];
      c.phase = 2;
    } else if (c.phase == 2) {
      json done = head;
      done.update({{"type", chance(0.15) ? "info" : "ok"}, {"f", c.invoke["f"]}});
      if (done["type"] == "ok") done.update(c.result);
      emit(done);
      c.phase = 0;
    }
  }
  std::string text;
  for (const json& line : lines) text += line.dump() + "\n";
  return text;
}

TEST(LincheckRandom, AgreesWithBruteForceOnTinyHistories) {
  std::mt19937 rng(7);
  int violations = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = tiny_random_history(rng);
    ParseResult parsed = parse_history_text(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error << "\n" << text;
    const bool expected = brute_force_linearizable(parsed.history);
    const CheckResult result = check(parsed.history);
    ASSERT_NE(result.verdict, Verdict::unknown);
    ASSERT_EQ(result.linearizable, expected) << result.explanation << "\n" << text;
    violations += !expected;
  }
  EXPECT_GT(violations, 300);  // both verdicts are well represented
  EXPECT_LT(violations, 2700);
}

}  // namespace
}  // namespace raftor::lincheck
