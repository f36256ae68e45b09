// Wing & Gong's backtracking search (1993) with Lowe's memoization (2017), laid out like
// Porcupine's checker: operations whose return is known sit in a time-ordered list of call
// and return events; an operation whose call comes before the first remaining return may be
// linearized next; reaching that return means nothing else can go first, so backtrack.
//
// Unknown writes never return, so plain WGL keeps them as candidates to the end and explores
// every subset of them. Instead they stay out of the list, in groups of writes with the same
// effect (KeyHistory::interchangeable_unknown_writes), and are tried only after the list's
// candidates at each node:
//   - within a group, members go in call order (swapping identical writes changes nothing);
//   - one that would leave the register as it is is skipped (it could as well go last);
//   - a node is pruned when a failed node had the same list operations placed, the same
//     state and at most as many taken of each group: that node had every option this one has.
// Trying unknown writes first or last is a trade-off (see search_key), so both are tried.
#include "raftor/tests/integration/lincheck/key_search.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

namespace raftor::lincheck {
namespace {

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A bitset with a Zobrist hash (XOR of one random word per member), updated in O(1).
class OpSet {
 public:
  explicit OpSet(std::size_t n) : words_((n + 63) / 64) {}
  void flip(std::size_t i) {
    words_[i / 64] ^= std::uint64_t{1} << (i % 64);
    hash_ ^= mix(i);
  }
  std::uint64_t hash() const { return hash_; }
  bool operator==(const OpSet& other) const { return words_ == other.words_; }

 private:
  std::vector<std::uint64_t> words_;
  std::uint64_t hash_ = 0;
};

using GroupCounts = std::vector<std::uint32_t>;  // per group: members linearized

// Lowe's cache of failed nodes (linearized set, state), with group counts compared by
// subsumption rather than equality. In depth-first order every node off the stack has failed
// and no node can recur on its own path, so recording nodes when they are left suffices.
class FailedNodes {
 public:
  bool covers(const OpSet& placed, ValueId state, const GroupCounts& taken) const {
    auto it = nodes_.find(Key{placed, state});
    if (it == nodes_.end()) return false;
    for (const GroupCounts& failed : it->second)
      if (std::equal(failed.begin(), failed.end(), taken.begin(), std::less_equal<>()))
        return true;
    return false;
  }
  void add(const OpSet& placed, ValueId state, const GroupCounts& taken) {
    nodes_[Key{placed, state}].push_back(taken);
  }

 private:
  struct Key {
    OpSet placed;
    ValueId state;
    bool operator==(const Key& other) const {
      return state == other.state && placed == other.placed;
    }
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return k.placed.hash() ^ mix(static_cast<std::uint64_t>(k.state) + 0x51ed27);
    }
  };
  std::unordered_map<Key, std::vector<GroupCounts>, KeyHash> nodes_;
};

// ---- Wing & Gong's list of call and return events ----------------------------------------

struct Entry {
  std::int64_t time = 0;
  bool is_call = false;
  std::size_t op = kNone;
  std::size_t match = kNone;  // a call's return entry
  std::size_t prev = kNone, next = kNone;
};

// Doubly linked so that linearizing an operation unlinks its two entries (lift) and
// backtracking relinks them in O(1) (unlift), as in Porcupine.
class EntryList {
 public:
  static constexpr std::size_t kHead = 0;  // sentinel

  EntryList(const std::vector<RegisterOp>& ops, const std::vector<std::size_t>& members)
      : entries_(1 + 2 * members.size()), call_of_(ops.size(), kNone) {
    std::vector<std::size_t> order;
    for (std::size_t k = 0; k < members.size(); ++k) {
      const RegisterOp& op = ops[members[k]];
      call_of_[members[k]] = 1 + 2 * k;
      entries_[1 + 2 * k] = {op.source->call_time, true, members[k], 2 + 2 * k};
      entries_[2 + 2 * k] = {op.return_time, false, members[k]};
      order.push_back(1 + 2 * k);
      order.push_back(2 + 2 * k);
    }
    // Equal times: calls first, so touching operations count as concurrent (Porcupine).
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (entries_[a].time != entries_[b].time) return entries_[a].time < entries_[b].time;
      return entries_[a].is_call && !entries_[b].is_call;
    });
    std::size_t prev = kHead;
    for (std::size_t index : order) {
      entries_[prev].next = index;
      entries_[index].prev = prev;
      prev = index;
    }
  }

  const Entry& operator[](std::size_t i) const { return entries_[i]; }
  std::size_t first() const { return entries_[kHead].next; }
  std::size_t call_of(std::size_t op) const { return call_of_[op]; }

  void lift(std::size_t call) {
    unlink(call);
    unlink(entries_[call].match);
  }
  void unlift(std::size_t call) {  // reverse order of lift
    relink(entries_[call].match);
    relink(call);
  }

 private:
  void unlink(std::size_t i) {
    entries_[entries_[i].prev].next = entries_[i].next;
    if (entries_[i].next != kNone) entries_[entries_[i].next].prev = entries_[i].prev;
  }
  void relink(std::size_t i) {
    entries_[entries_[i].prev].next = i;
    if (entries_[i].next != kNone) entries_[entries_[i].next].prev = i;
  }
  std::vector<Entry> entries_;
  std::vector<std::size_t> call_of_;  // op -> its call entry
};

std::vector<std::size_t> bounded_ops(const std::vector<RegisterOp>& ops) {
  std::vector<std::size_t> bounded;
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].return_time != kNeverReturned) bounded.push_back(i);
  return bounded;
}

// ---- The search ---------------------------------------------------------------------------

// Which candidates a node tries first: both orders are complete, but they differ in speed.
enum class Order { list_first, unknown_writes_first };

class KeySearch {
 public:
  KeySearch(const KeyHistory& key, Order order, FailedNodes& failed, std::size_t max_states)
      : order_(order),
        ops_(key.ops()),
        bounded_(bounded_ops(ops_)),
        list_(ops_, bounded_),
        groups_(key.interchangeable_unknown_writes()),
        group_of_(ops_.size(), kNone),
        placed_(ops_.size()),
        taken_(groups_.size(), 0),
        failed_(failed),
        max_states_(max_states) {
    for (std::size_t g = 0; g < groups_.size(); ++g)
      for (std::size_t op : groups_[g]) group_of_[op] = g;
  }

  KeySearchResult run() {
    KeySearchResult result;
    result.verdict = search();
    result.states_explored = states_;
    if (result.verdict == Verdict::not_linearizable) result.explanation = explain();
    return result;
  }

 private:
  // A position among one node's candidates: the list's calls before `stop`, and the next
  // member of each group of unknown writes invoked by then, in the order of `order_`.
  struct Cursor {
    bool in_list;
    std::size_t entry;  // next list entry to try
    std::size_t group;  // next group to try
  };

  Cursor start() const { return {order_ == Order::list_first, list_.first(), 0}; }

  // The candidate at `cursor`, moving it past; kNone once the node has no more.
  std::size_t next_candidate(Cursor& cursor, std::size_t stop) const {
    while (true) {
      if (cursor.in_list) {
        if (cursor.entry != stop) {
          const std::size_t op = list_[cursor.entry].op;
          cursor.entry = list_[cursor.entry].next;
          return op;
        }
        if (order_ == Order::unknown_writes_first) return kNone;
        cursor.in_list = false;
      } else {
        while (cursor.group < groups_.size()) {
          const std::size_t g = cursor.group++;
          if (taken_[g] == groups_[g].size()) continue;
          const std::size_t op = groups_[g][taken_[g]];
          if (ops_[op].source->call_time <= list_[stop].time) return op;  // invoked by then
        }
        if (order_ == Order::list_first) return kNone;
        cursor.in_list = true;
      }
    }
  }

  // The first remaining return entry: every candidate of the node is invoked before it.
  std::size_t first_return() const {
    std::size_t i = list_.first();
    while (list_[i].is_call) i = list_[i].next;
    return i;
  }

  Verdict search() {
    ValueId state = kAbsent;
    std::size_t remaining = bounded_.size();  // the others never return: they can go last
    std::size_t stop = remaining > 0 ? first_return() : kNone;
    Cursor cursor = start();
    while (remaining > 0) {
      if (states_ > max_states_) return Verdict::unknown;
      if (const std::size_t op = next_candidate(cursor, stop); op != kNone) {
        if (auto next = advance(op, state)) {
          const bool in_list = group_of_[op] == kNone;
          frames_.push_back({op, cursor, stop, state});
          state = *next;
          if (in_list) {
            list_.lift(list_.call_of(op));
            --remaining;
          }
          stop = remaining > 0 ? first_return() : kNone;
          cursor = start();
        }
        continue;
      }
      // Nothing can go next here, yet the operation returning at `stop` must be placed.
      note_deepest(stop);
      if (frames_.empty()) return Verdict::not_linearizable;
      failed_.add(placed_, state, taken_);
      const Frame frame = frames_.back();
      frames_.pop_back();
      state = frame.state_before;
      mark(frame.op, false);
      if (group_of_[frame.op] == kNone) {
        list_.unlift(list_.call_of(frame.op));
        ++remaining;
      }
      cursor = frame.resume;
      stop = frame.stop;
    }
    return Verdict::linearizable;
  }

  // Linearizes `op` next, returning the new state, if the model allows it and the node it
  // leads to is not known to fail.
  std::optional<ValueId> advance(std::size_t op, ValueId state) {
    ValueId next = state;
    if (!step(ops_[op], next)) return std::nullopt;
    const bool unknown_write = group_of_[op] != kNone;
    if (unknown_write && next == state) return std::nullopt;  // changes nothing: could go last
    mark(op, true);
    if (failed_.covers(placed_, next, taken_)) {
      mark(op, false);
      return std::nullopt;
    }
    ++states_;
    return next;
  }

  void mark(std::size_t op, bool linearized) {
    const std::size_t g = group_of_[op];
    if (g == kNone) placed_.flip(op);
    else if (linearized) ++taken_[g];
    else --taken_[g];
  }

  // ---- Explaining a violation from the deepest node reached ----

  void note_deepest(std::size_t stop) {
    if (deepest_blocked_ != kNone && frames_.size() <= deepest_depth_) return;
    deepest_depth_ = frames_.size();
    deepest_blocked_ = list_[stop].op;
    deepest_writer_ = last_writer();
    deepest_pending_.clear();
    for (std::size_t i = list_.first(); i != stop && deepest_pending_.size() < kMaxShown;
         i = list_[i].next)
      if (list_[i].op != deepest_blocked_) deepest_pending_.push_back(list_[i].op);
  }

  // The write the register holds: merged values (KeyHistory::merge_unobserved_values) hide it.
  std::size_t last_writer() const {
    for (std::size_t i = frames_.size(); i-- > 0;) {
      const RegisterOp& op = ops_[frames_[i].op];
      const OpKind kind = op.source->kind;
      if (kind == OpKind::put || kind == OpKind::del ||
          (kind == OpKind::cas && frames_[i].state_before == op.expected))
        return frames_[i].op;
    }
    return kNone;
  }

  std::string explain() const {
    std::string held = "absent, as initially";
    if (deepest_writer_ != kNone) {
      const Operation& write = *ops_[deepest_writer_].source;
      held = (write.kind == OpKind::del ? std::string("absent") : "\"" + *write.value + "\"") +
             ", written on line " + std::to_string(write.invoke_line);
    }
    std::string text = "no valid order: the longest linearizable prefix has " +
                       std::to_string(deepest_depth_) + " of " + std::to_string(ops_.size()) +
                       " operations (value then " + held + "), after which " +
                       describe(*ops_[deepest_blocked_].source) +
                       " cannot take effect before it returns";
    if (!deepest_pending_.empty()) {
      text += "; other operations pending there:";
      for (std::size_t op : deepest_pending_) text += " " + describe(*ops_[op].source) + ";";
      text.pop_back();
    }
    return text;
  }

  struct Frame {  // a linearized operation, and where its node's candidates resume
    std::size_t op;
    Cursor resume;
    std::size_t stop;
    ValueId state_before;
  };

  static constexpr std::size_t kMaxShown = 4;

  Order order_;
  const std::vector<RegisterOp>& ops_;
  std::vector<std::size_t> bounded_;  // operations with a return time, in the list
  EntryList list_;
  std::vector<std::vector<std::size_t>> groups_;  // the unknown writes, never returning
  std::vector<std::size_t> group_of_;             // op -> its group, kNone if in the list
  OpSet placed_;                                  // linearized list operations
  GroupCounts taken_;
  FailedNodes& failed_;  // shared by all attempts: a node that fails, fails in any order
  std::vector<Frame> frames_;
  std::size_t max_states_;
  std::size_t states_ = 0;

  std::size_t deepest_depth_ = 0;
  std::size_t deepest_blocked_ = kNone;  // its return came before it could be placed
  std::size_t deepest_writer_ = kNone;   // the write the register held there
  std::vector<std::size_t> deepest_pending_;
};

}  // namespace

KeySearchResult search_key(const KeyHistory& key, std::size_t max_states) {
  // Trying unknown writes first finds linearizations sooner; the list first refutes sooner,
  // as failures with few unknown writes taken then prune the rest. Alternating with growing
  // budgets costs at most a small factor over the better order.
  constexpr std::size_t kFirstBudget = 10'000;
  FailedNodes failed;
  std::size_t spent = 0;
  for (std::size_t budget = kFirstBudget;; budget *= 4) {
    for (Order order : {Order::unknown_writes_first, Order::list_first}) {
      const std::size_t allowed = std::min(budget, max_states - spent);
      KeySearchResult attempt = KeySearch(key, order, failed, allowed).run();
      spent += std::min(attempt.states_explored, allowed);
      attempt.states_explored = spent;
      if (attempt.verdict != Verdict::unknown || spent >= max_states) return attempt;
    }
  }
}

}  // namespace raftor::lincheck
