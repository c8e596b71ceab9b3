// Outgoing proxies of Prometheus 2.43+ (prometheus/common v0.44 ProxyConfig)
// against the real binary and a recording forward proxy on loopback:
// no_proxy, proxy_from_environment, and --enable-feature=expand-external-labels.
// Go's httpproxy never proxies "localhost" and loopback IPs once no_proxy or
// the environment decides, so the targets that must go through the proxy are
// addressed as 0.0.0.0:port (not loopback to Go, and Linux connects it to the
// local host). The https CONNECT headers are in web_tls_test.cc, which has
// the certificates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "tests/e2e/http_proxy.h"
#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"
#include "tests/support/scoped_env.h"

namespace vigil::e2e {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

using test_support::ScopedEnv;

std::string UpOf(const VigilProcess& vigil, const std::string& job) {
  json j = json::parse(vigil.Get("/api/v1/query?query=up%7Bjob%3D%22" + job + "%22%7D").body,
                       nullptr, false);
  if (j.is_discarded() || j["data"]["result"].size() != 1) return "";
  return j["data"]["result"][0]["value"][1].get<std::string>();
}

// A job scraping `address` with ?job=<name>, so the proxy's log names the job.
std::string Job(const std::string& name, const std::string& address, const std::string& proxy) {
  return "  - job_name: " + name + "\n    params: {job: [" + name + "]}\n" + proxy +
         "    static_configs: [{targets: ['" + address + "']}]\n";
}

bool ProxySaw(const HttpProxy& proxy, const std::string& job) {
  const auto lines = proxy.request_lines();
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find("?job=" + job + " ") != std::string::npos;
  });
}

std::string Anywhere(const MetricsTarget& target) {
  return "0.0.0.0:" + std::to_string(target.port());
}

TEST(ProxyTest, NoProxy_MatchingTargetsBypassProxyUrl) {
  HttpProxy proxy;
  MetricsTarget target("m 1\n");
  const std::string url = "    proxy_url: http://127.0.0.1:" + std::to_string(proxy.port()) + "\n";
  VigilProcess vigil(
      "global:\n  scrape_interval: 1s\nscrape_configs:\n" +
      Job("unmatched", Anywhere(target), url + "    no_proxy: other.example,10.0.0.0/8\n") +
      Job("ip_match", Anywhere(target), url + "    no_proxy: other.example, 0.0.0.0\n") +
      Job("port_match", Anywhere(target),
          url + "    no_proxy: 0.0.0.0:" + std::to_string(target.port()) + "\n") +
      Job("port_differs", Anywhere(target), url + "    no_proxy: 0.0.0.0:1\n") +
      Job("loopback", target.address(), url + "    no_proxy: other.example\n") +
      Job("no_list", target.address(), url));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  for (const char* job :
       {"unmatched", "ip_match", "port_match", "port_differs", "loopback", "no_list"}) {
    EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, job) == "1"; }, 20s)) << job;
  }
  EXPECT_TRUE(ProxySaw(proxy, "unmatched"));
  EXPECT_TRUE(ProxySaw(proxy, "port_differs"));
  EXPECT_TRUE(ProxySaw(proxy, "no_list"));  // without no_proxy even loopback is proxied
  EXPECT_FALSE(ProxySaw(proxy, "ip_match"));
  EXPECT_FALSE(ProxySaw(proxy, "port_match"));
  EXPECT_FALSE(ProxySaw(proxy, "loopback"));  // Go's rule once no_proxy is set
}

TEST(ProxyTest, ProxyFromEnvironment_UsesHttpProxyAndNoProxyOfVigilsEnvironment) {
  HttpProxy proxy;
  MetricsTarget proxied("m 1\n"), skipped("m 2\n");
  std::optional<VigilProcess> vigil;
  {
    ScopedEnv http_proxy("HTTP_PROXY", "127.0.0.1:" + std::to_string(proxy.port()));
    ScopedEnv https_proxy("HTTPS_PROXY", "");
    ScopedEnv no_proxy("NO_PROXY", "example.invalid, " + Anywhere(skipped));
    vigil.emplace("global:\n  scrape_interval: 1s\nscrape_configs:\n" +
                  Job("env", Anywhere(proxied), "    proxy_from_environment: true\n") +
                  Job("env_no_proxy", Anywhere(skipped), "    proxy_from_environment: true\n") +
                  Job("env_unused", Anywhere(proxied), ""));
  }
  ASSERT_TRUE(vigil->WaitReady()) << vigil->Logs();
  for (const char* job : {"env", "env_no_proxy", "env_unused"}) {
    EXPECT_TRUE(vigil->WaitFor([&] { return UpOf(*vigil, job) == "1"; }, 20s)) << job;
  }
  EXPECT_TRUE(ProxySaw(proxy, "env"));
  EXPECT_FALSE(ProxySaw(proxy, "env_no_proxy"));
  EXPECT_FALSE(ProxySaw(proxy, "env_unused"));  // the environment only counts when asked
}

TEST(ProxyTest, InvalidProxyCombination_IsRefusedAtStart) {
  VigilProcess vigil(
      "scrape_configs:\n  - job_name: a\n    no_proxy: example.com\n"
      "    static_configs: [{targets: ['127.0.0.1:1']}]\n");
  ASSERT_EQ(vigil.WaitExit(), 1) << vigil.Logs();
  EXPECT_NE(vigil.Logs().find("if no_proxy is configured, proxy_url must also be configured"),
            std::string::npos)
      << vigil.Logs();
}

// Prometheus 2.48 docs/feature_flags.md: `${var}` / `$var` in external_labels
// values are replaced by environment variables, undefined ones by "", `$$`
// escapes `$`; /api/v1/status/config shows the expanded config.
TEST(ExpandExternalLabelsTest, ValuesComeFromVigilsEnvironmentWithTheFeature) {
  const std::string config =
      "global:\n  scrape_interval: 1s\n  external_labels:\n"
      "    region: ${VIGIL_E2E_REGION}\n    price: $$5\n    gone: $VIGIL_E2E_UNSET_VARIABLE\n"
      "scrape_configs:\n  - job_name: self\n    static_configs: [{targets: ['127.0.0.1:1']}]\n";
  ScopedEnv region("VIGIL_E2E_REGION", "eu-west-1");
  VigilProcess on(config, {"--enable-feature=expand-external-labels"});
  VigilProcess off(config);
  ASSERT_TRUE(on.WaitReady()) << on.Logs();
  ASSERT_TRUE(off.WaitReady()) << off.Logs();

  json shown = json::parse(on.Get("/api/v1/status/config").body, nullptr, false);
  ASSERT_FALSE(shown.is_discarded());
  const std::string yaml = shown["data"]["yaml"].get<std::string>();
  EXPECT_NE(yaml.find("region: eu-west-1"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("VIGIL_E2E"), std::string::npos) << yaml;
  EXPECT_EQ(on.Logs().find("Feature flag not supported"), std::string::npos) << on.Logs();

  // Federation attaches the external labels: expanded with the feature only.
  ASSERT_TRUE(on.WaitFor([&] { return UpOf(on, "self") == "0"; }, 20s));
  ASSERT_TRUE(off.WaitFor([&] { return UpOf(off, "self") == "0"; }, 20s));
  const std::string federated = on.Get("/federate?match%5B%5D=up").body;
  EXPECT_NE(federated.find("region=\"eu-west-1\""), std::string::npos) << federated;
  EXPECT_NE(federated.find("price=\"$5\""), std::string::npos) << federated;
  EXPECT_EQ(federated.find("gone="), std::string::npos) << federated;
  const std::string literal = off.Get("/federate?match%5B%5D=up").body;
  EXPECT_NE(literal.find("region=\"${VIGIL_E2E_REGION}\""), std::string::npos) << literal;
}

}  // namespace
}  // namespace vigil::e2e
