// The proxy fields Prometheus 2.43+ inlines in every HTTP client config
// (prometheus/common v0.44 ProxyConfig: proxy_url, no_proxy,
// proxy_from_environment, proxy_connect_header), Go's httpproxy rules for
// which requests skip the proxy (golang.org/x/net v0.17 http/httpproxy,
// proxy.go and proxy_test.go), and --enable-feature=expand-external-labels
// (Prometheus 2.48 docs/feature_flags.md, config/config.go Load).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "config/config.h"
#include "config/proxy_selector.h"
#include "tests/support/scoped_env.h"

namespace vigil::config {
namespace {

using test_support::ScopedEnv;

Result<Config> Load(const std::string& yaml, const LoadOptions& options = {}) {
  return LoadConfigString(yaml, "/etc/vigil/prometheus.yml", options);
}

std::string Job(const std::string& fields) { return "scrape_configs:\n  - job_name: a\n" + fields; }

TEST(ProxyConfig, AllFourFields_AreReadInScrapeAndOAuth2Sections) {
  auto c =
      Load(Job("    proxy_url: http://127.0.0.1:3128\n"
               "    no_proxy: .internal,10.0.0.0/8\n"
               "    proxy_connect_header: {Proxy-Authorization: [Bearer t1, t2]}\n"
               "    oauth2:\n      client_id: i\n      client_secret: s\n"
               "      token_url: https://auth.example/token\n"
               "      proxy_from_environment: true\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ProxyConfig& p = c->scrape_configs[0].http.proxy;
  EXPECT_EQ(p.proxy_url, "http://127.0.0.1:3128");
  EXPECT_EQ(p.no_proxy, ".internal,10.0.0.0/8");
  EXPECT_FALSE(p.proxy_from_environment);
  EXPECT_EQ(p.proxy_connect_header.at("Proxy-Authorization"),
            (std::vector<std::string>{"Bearer t1", "t2"}));
  EXPECT_TRUE(c->scrape_configs[0].http.oauth2->proxy.proxy_from_environment);
}

TEST(ProxyConfig, OtherHttpSections_TakeTheFieldsToo) {
  auto c = Load(
      "alerting:\n  alertmanagers:\n    - proxy_from_environment: true\n"
      "remote_write:\n  - url: http://rw.example/api\n    proxy_url: http://127.0.0.1:1\n"
      "    no_proxy: rw.example\n"
      "remote_read:\n  - url: http://rr.example/api\n    proxy_from_environment: true\n"
      "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n"
      "      - role: pod\n        api_server: https://k8s.example:6443\n"
      "        proxy_url: http://127.0.0.1:2\n"
      "        proxy_connect_header: {X-A: [b]}\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->alerting.alertmanagers[0].http.proxy.proxy_from_environment);
  EXPECT_EQ(c->remote_write[0].http.proxy.no_proxy, "rw.example");
  EXPECT_TRUE(c->remote_read[0].http.proxy.proxy_from_environment);
  EXPECT_EQ(c->scrape_configs[0].kubernetes_sd_configs[0].http.proxy.proxy_connect_header.size(),
            1u);
}

struct InvalidProxy {
  const char* name;
  std::string fields;
  const char* error;
};

class InvalidProxyConfig : public ::testing::TestWithParam<InvalidProxy> {};

// The messages of prometheus/common v0.44 ProxyConfig.Validate, in its order.
TEST_P(InvalidProxyConfig, IsRefusedWithPrometheusMessage) {
  auto c = Load(Job(GetParam().fields));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(GetParam().error), std::string::npos) << c.status().message();
}

const InvalidProxy kInvalidProxy[] = {
    {"ConnectHeaderWithoutProxy", "    proxy_connect_header: {X-A: [b]}\n",
     "line 2, column 5: if proxy_connect_header is configured, proxy_url or "
     "proxy_from_environment must also be configured"},
    {"EnvironmentAndUrl",
     "    proxy_from_environment: true\n    proxy_url: http://127.0.0.1:3128\n",
     "if proxy_from_environment is configured, proxy_url must not be configured"},
    {"EnvironmentAndNoProxy", "    proxy_from_environment: true\n    no_proxy: a.example\n",
     "if proxy_from_environment is configured, no_proxy must not be configured"},
    {"NoProxyWithoutUrl", "    no_proxy: a.example\n",
     "if no_proxy is configured, proxy_url must also be configured"},
    {"NoProxyWithoutUrlInOAuth2",
     "    oauth2: {client_id: i, token_url: 'http://t/', no_proxy: x}\n",
     "if no_proxy is configured, proxy_url must also be configured"},
    {"ConnectHeaderNotAList",
     "    proxy_url: http://127.0.0.1:1\n    proxy_connect_header: {X-A: b}\n",
     "cannot unmarshal !!str into []config.Secret"},
    {"FromEnvironmentNotBool", "    proxy_from_environment: maybe\n",
     "cannot unmarshal !!str `maybe` into bool"},
};

INSTANTIATE_TEST_SUITE_P(Table, InvalidProxyConfig, ::testing::ValuesIn(kInvalidProxy),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ProxyConfig, EnvironmentProxyVigilCannotSpeak_IsRefusedAtLoad) {
  ScopedEnv upper("HTTPS_PROXY", "socks5://u:pw@127.0.0.1:1080");
  auto c = Load(Job("    proxy_from_environment: true\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("unsupported proxy scheme in HTTPS_PROXY"), std::string::npos)
      << c.status().message();
  EXPECT_EQ(c.status().message().find("pw@"), std::string::npos) << c.status().message();
}

TEST(ProxyConfig, ConfigToYaml_ShowsTheFieldsWithConnectHeaderValuesAsSecret) {
  auto c =
      Load(Job("    proxy_url: http://127.0.0.1:3128\n    no_proxy: .internal\n"
               "    proxy_connect_header: {Proxy-Authorization: [Basic c2VjcmV0]}\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string yaml = ConfigToYaml(*c);
  EXPECT_EQ(yaml.find("c2VjcmV0"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("no_proxy: .internal"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- <secret>"), std::string::npos) << yaml;
  auto again = LoadConfigString(yaml, "x.yml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(again->scrape_configs[0].http.proxy.no_proxy, ".internal");
}

TEST(ProxyConfig, RedactConfigText_HidesConnectHeaderValues) {
  const std::string redacted = RedactConfigText(
      Job("    proxy_url: http://127.0.0.1:3128\n"
          "    proxy_connect_header:\n      Proxy-Authorization: [Basic c2VjcmV0, other]\n"));
  EXPECT_EQ(redacted.find("c2VjcmV0"), std::string::npos) << redacted;
  EXPECT_EQ(redacted.find("other"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("Proxy-Authorization"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("<secret>"), std::string::npos) << redacted;
}

// ---- Which requests use the proxy: Go's httpproxy -------------------------

struct NoProxyCase {
  const char* no_proxy;
  const char* host;
  const char* port;
  bool proxied;
};

class NoProxyMatching : public ::testing::TestWithParam<NoProxyCase> {};

TEST_P(NoProxyMatching, DecidesAsGoHttpproxy) {
  const NoProxyCase& c = GetParam();
  EXPECT_EQ(NoProxyList(c.no_proxy).UseProxy(c.host, c.port), c.proxied)
      << "no_proxy=" << c.no_proxy << " host=" << c.host << ":" << c.port;
}

// Cases from the rules of httpproxy.Config.NoProxy and proxy_test.go's table.
const NoProxyCase kNoProxy[] = {
    {"", "example.com", "80", true},
    {"", "localhost", "80", false},  // localhost and loopback are never proxied
    {"", "127.0.0.1", "9100", false},
    {"", "127.1.2.3", "9100", false},
    {"", "::1", "9100", false},
    {"", "::ffff:127.0.0.1", "9100", false},
    {"*", "example.com", "80", false},
    {"foo.com", "foo.com", "80", false},      // a domain matches itself
    {"foo.com", "bar.foo.com", "80", false},  // and its subdomains
    {"foo.com", "barfoo.com", "80", true},
    {".y.com", "x.y.com", "80", false},  // a leading dot: subdomains only
    {".y.com", "y.com", "80", true},
    {"*.y.com", "x.y.com", "80", false},
    {"*.y.com", "y.com", "80", true},
    {"FOO.com", "foo.com", "80", false},         // entries are lower-cased
    {"foo.com:8080", "foo.com", "8080", false},  // a port narrows the entry
    {"foo.com:8080", "foo.com", "80", true},
    {"10.0.0.1", "10.0.0.1", "443", false},
    {"10.0.0.1", "10.0.0.2", "443", true},
    {"10.0.0.1:443", "10.0.0.1", "80", true},
    {"10.0.0.0/8", "10.200.3.4", "80", false},  // CIDR
    {"10.0.0.0/8", "11.0.0.1", "80", true},
    {"192.168.0.0/23", "192.168.1.9", "80", false},
    {"192.168.0.0/23", "192.168.2.9", "80", true},
    {"2001:db8::/32", "2001:db8:1::5", "80", false},
    {"2001:db8::/32", "2001:db9::5", "80", true},
    {"[2001:db8::1]:80", "2001:db8::1", "80", false},
    {"2001:db8::1", "2001:db8::1", "9090", false},
    {" a.com , b.com ", "b.com", "80", false},  // spaces around entries
    {"a.com,,:80,", "c.com", "80", true},       // malformed entries are skipped
    {"3.4", "1.2.3.4", "80", false},            // not an IP entry, so a domain suffix, as Go
};

INSTANTIATE_TEST_SUITE_P(Table, NoProxyMatching, ::testing::ValuesIn(kNoProxy));

TEST(SelectProxy, ProxyUrlWithoutNoProxy_CarriesEveryRequestLoopbackToo) {
  ProxyConfig p;
  p.proxy_url = "http://127.0.0.1:3128";
  // http.ProxyURL: no localhost exception without no_proxy.
  EXPECT_EQ(SelectProxy("http://127.0.0.1:9100", p, {}), p.proxy_url);
  EXPECT_EQ(SelectProxy("https://example.com", p, {}), p.proxy_url);
}

TEST(SelectProxy, NoProxy_SendsMatchingHostsDirect) {
  ProxyConfig p;
  p.proxy_url = "http://127.0.0.1:3128";
  p.no_proxy = ".internal,10.0.0.0/8";
  EXPECT_EQ(SelectProxy("http://db.internal:9100", p, {}), "");
  EXPECT_EQ(SelectProxy("https://10.1.2.3", p, {}), "");
  EXPECT_EQ(SelectProxy("http://[::1]:9100", p, {}), "");  // loopback, with no_proxy set
  EXPECT_EQ(SelectProxy("http://example.com:9100", p, {}), p.proxy_url);
}

TEST(SelectProxy, FromEnvironment_PicksTheVariableOfTheScheme) {
  ProxyConfig p;
  p.proxy_from_environment = true;
  const ProxyEnvironment env{"http://hp:3128", "hsp:3129", "skip.example"};
  EXPECT_EQ(SelectProxy("http://a.example:80", p, env), "http://hp:3128");
  EXPECT_EQ(SelectProxy("https://a.example", p, env), "http://hsp:3129");  // host:port is http
  EXPECT_EQ(SelectProxy("http://x.skip.example:80", p, env), "");
  EXPECT_EQ(SelectProxy("http://localhost:9090", p, env), "");
  EXPECT_EQ(SelectProxy("https://a.example", p, {"http://hp:3128", "", ""}), "");
  EXPECT_EQ(SelectProxy("http://a.example", p, {"http://hp:3128", "", "*"}), "");
  // Without proxy_from_environment the environment has no say.
  EXPECT_EQ(SelectProxy("http://a.example", ProxyConfig{}, env), "");
}

TEST(ProxyEnvironment, UpperCaseFirst_LowerCaseWhenEmpty) {
  ScopedEnv a("HTTP_PROXY", nullptr), b("http_proxy", "http://lower:1");
  ScopedEnv c("HTTPS_PROXY", "http://upper:2"), d("https_proxy", "http://lower:2");
  ScopedEnv e("NO_PROXY", ""), f("no_proxy", "lower.example");
  const ProxyEnvironment env = ProxyEnvironment::FromProcess();
  EXPECT_EQ(env.http_proxy, "http://lower:1");
  EXPECT_EQ(env.https_proxy, "http://upper:2");
  EXPECT_EQ(env.no_proxy, "lower.example");
}

// ---- --enable-feature=expand-external-labels ---------------------------------

std::string FromMap(const std::string& name) {
  if (name == "$") return "$";
  if (name == "A") return "alpha";
  if (name == "B_1") return "beta";
  return "";
}

TEST(ExpandVariables, FollowsGoOsExpand) {
  EXPECT_EQ(ExpandVariables("plain", FromMap), "plain");
  EXPECT_EQ(ExpandVariables("$A-${B_1}", FromMap), "alpha-beta");
  EXPECT_EQ(ExpandVariables("x${A}y$B_1.z", FromMap), "xalphaybeta.z");
  EXPECT_EQ(ExpandVariables("$$A", FromMap), "$A");             // "$$" escapes a dollar
  EXPECT_EQ(ExpandVariables("${UNSET}!", FromMap), "!");        // unset: empty
  EXPECT_EQ(ExpandVariables("cost: 5$", FromMap), "cost: 5$");  // a trailing $ stays
  EXPECT_EQ(ExpandVariables("a $ b", FromMap), "a $ b");        // $ before no name stays
  EXPECT_EQ(ExpandVariables("a${}b", FromMap), "ab");           // bad syntax is dropped
  EXPECT_EQ(ExpandVariables("a${Ab", FromMap), "aAb");          // unclosed: "${" dropped
}

const char* kExternal =
    "global:\n  external_labels:\n    region: ${VIGIL_TEST_REGION}\n"
    "    cost: $$5\n    missing: $VIGIL_TEST_UNSET\n    plain: x\n";

TEST(ExpandExternalLabels, WithTheFeature_ValuesComeFromTheEnvironment) {
  ScopedEnv region("VIGIL_TEST_REGION", "eu-west-1"), unset("VIGIL_TEST_UNSET", nullptr);
  auto c = Load(kExternal, {.expand_external_labels = true});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.external_labels,
            (Labels{{"cost", "$5"}, {"plain", "x"}, {"region", "eu-west-1"}}));
  // What /api/v1/status/config shows: the expanded values, as Prometheus.
  EXPECT_NE(c->original.find("region: eu-west-1"), std::string::npos) << c->original;
  EXPECT_EQ(c->original.find("VIGIL_TEST"), std::string::npos) << c->original;
}

TEST(ExpandExternalLabels, WithoutTheFeature_ValuesStayAsWritten) {
  ScopedEnv region("VIGIL_TEST_REGION", "eu-west-1");
  auto c = Load(kExternal);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.external_labels.Get("region"), "${VIGIL_TEST_REGION}");
  EXPECT_EQ(c->global.external_labels.Get("cost"), "$$5");
  EXPECT_EQ(c->original, kExternal);
}

}  // namespace
}  // namespace vigil::config
