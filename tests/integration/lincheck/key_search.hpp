// The linearizability search over one key's register (see key_search.cpp).
#pragma once

#include <cstddef>
#include <string>

#include "raftor/tests/integration/lincheck/checker.hpp"
#include "raftor/tests/integration/lincheck/register_model.hpp"

namespace raftor::lincheck {

struct KeySearchResult {
  Verdict verdict = Verdict::linearizable;
  std::size_t states_explored = 0;
  std::string explanation;  // for Verdict::not_linearizable
};

// `key` should have had KeyHistory's simplifications applied; gives up with Verdict::unknown
// after `max_states` search states.
KeySearchResult search_key(const KeyHistory& key, std::size_t max_states);

}  // namespace raftor::lincheck
