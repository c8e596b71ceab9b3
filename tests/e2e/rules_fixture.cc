#include "tests/e2e/rules_fixture.h"

#include <utility>

namespace vigil::e2e {

RuleServer::RuleServer(const std::string& rules_yaml, RuleServerOptions options)
    : rules_file_(dir_.path() / "rules.yml") {
  WriteFileAtomically(rules_file_, rules_yaml);
  vigil_.emplace("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" +
                     options.global_extra + "rule_files:\n  - " + rules_file_.string() + "\n" +
                     options.sections +
                     "scrape_configs:\n  - job_name: node\n    static_configs:\n"
                     "      - targets: ['" +
                     target_.address() + "']\n",
                 std::move(options.flags));
}

nlohmann::json ApiData(const VigilProcess& vigil, const std::string& path) {
  const auto reply = vigil.Get(path);
  nlohmann::json j = nlohmann::json::parse(reply.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j["data"];
}

}  // namespace vigil::e2e
