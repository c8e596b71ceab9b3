// Regression test for the "Hostile input" issue: one alert annotation,
// `{{ printf "%s: %s" $labels.foo $labels.alertname }} {{ printf "%s" $value }}`,
// used to crash the server in libc within a second of the alert firing
// (printf handed the template's format to snprintf). The real binary must
// keep serving and show Go's texts, as Prometheus 2.42 does; a reload with a
// template that uses an unknown function is refused with promtool's message.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/e2e/rules_fixture.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kRules[] =
    "groups:\n"
    "  - name: hostile\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: PrintfMismatch\n"
    "        expr: up{job=\"node\"} > 0\n"
    "        annotations:\n"
    "          crash: '{{ printf \"%s: %s\" $labels.job $labels.alertname }} "
    "{{ printf \"%s\" $value }}'\n"
    "          width: '{{ printf \"%999999999d|%n\" 5 }}'\n"
    "          nested: '{{ ((((humanizeDuration 1e300)))) }}'\n";

TEST(HostileTemplateTest, PrintfWithWrongArgumentsFiresWithGoTextsAndTheServerStaysUp) {
  RuleServer server(kRules);
  VigilProcess& vigil = server.vigil();
  ASSERT_TRUE(vigil.WaitReady());
  json alerts;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        alerts = ApiData(vigil, "/api/v1/alerts");
        return alerts.is_object() && alerts["alerts"].size() == 1 &&
               alerts["alerts"][0]["state"] == "firing";
      },
      20s))
      << alerts.dump() << "\n"
      << vigil.Logs();
  const json& annotations = alerts["alerts"][0]["annotations"];
  EXPECT_EQ(annotations["crash"], "node:  %!s(float64=1)");
  EXPECT_EQ(annotations["width"], "%!(NOVERB)%!(EXTRA int=5)");
  EXPECT_EQ(annotations["nested"], "-106751991167300d -15h -30m -8s");
  // Several more evaluations with the alert firing, then the server still answers.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(vigil.Get("/-/healthy").status, 200);
  EXPECT_FALSE(vigil.WaitExit(10ms).has_value());

  WriteFileAtomically(server.rules_file(),
                      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                      "        annotations:\n          s: '{{ nosuch $value }}'\n");
  const HttpReply reload = vigil.Post("/-/reload", "");
  EXPECT_NE(reload.status, 200);
  EXPECT_NE(reload.body.find("group \"g\", rule 1, \"A\": annotation \"s\": template: __alert_A:1: "
                             "function \"nosuch\" not defined"),
            std::string::npos)
      << reload.body;
  EXPECT_EQ(vigil.Get("/-/healthy").status, 200);
}

// promtool check rules prints exactly this for the same file (Prometheus 2.42).
TEST(HostileTemplateTest, CheckRulesRefusesAnUnknownTemplateFunctionAsPromtool) {
  TempDir dir;
  const std::filesystem::path rules = dir.path() / "bad.yml";
  WriteFileAtomically(rules,
                      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                      "        annotations:\n          s: '{{ nosuch $value }}'\n");
  const std::filesystem::path out = dir.path() / "out", err = dir.path() / "err";
  const std::string cmd =
      VigilBinary() + " check rules " + rules.string() + " >" + out.string() + " 2>" + err.string();
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 1);
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(out), "Checking " + rules.string() + "\n\n");
  EXPECT_EQ(read(err), "  FAILED:\n" + rules.string() +
                           ": group \"g\", rule 1, \"A\": annotation \"s\": template: __alert_A:1: "
                           "function \"nosuch\" not defined\n");
}

}  // namespace
}  // namespace vigil::e2e
