// The GoogleTest fixture of tests that run an in-process cluster (local_cluster.hpp).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "local_cluster.hpp"

namespace raftor::testing {

class LocalClusterTest : public ::testing::Test {
 protected:
  caf::actor_system system_{test_system_config()};

  // A cluster with every node started.
  std::unique_ptr<LocalCluster> cluster(LocalClusterOptions options = {}) {
    auto c = std::make_unique<LocalCluster>(system_, options);
    c->start_all();
    return c;
  }
};

}  // namespace raftor::testing
