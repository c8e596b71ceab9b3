// Alerting(yaml): the `alerting` section of a config whose alertmanagers list
// is `alertmanagers_yaml` (indented list items), loaded by the real loader.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "config/config.h"

namespace vigil::test_support {

inline config::AlertingConfig Alerting(const std::string& alertmanagers_yaml) {
  auto config =
      config::LoadConfigString("alerting:\n  alertmanagers:\n" + alertmanagers_yaml, "test.yml");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? config->alerting : config::AlertingConfig{};
}

}  // namespace vigil::test_support
