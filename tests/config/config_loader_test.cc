// Config loader: defaults, every field, and invalid configs whose errors must
// name the line and the problem.
#include <gtest/gtest.h>

#include "config/config.h"

namespace vigil::config {
namespace {

Config MustLoad(const std::string& yaml) {
  auto c = LoadConfigString(yaml, "/etc/vigil/prometheus.yml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Config();
}

TEST(ConfigLoader, EmptyFile_HasPrometheusDefaults) {
  const Config c = MustLoad("");
  EXPECT_EQ(c.global.scrape_interval_ms, 60'000);
  EXPECT_EQ(c.global.scrape_timeout_ms, 10'000);
  EXPECT_EQ(c.global.evaluation_interval_ms, 60'000);
  EXPECT_TRUE(c.scrape_configs.empty());
}

TEST(ConfigLoader, ScrapeConfig_InheritsGlobalsAndDefaults) {
  const Config c = MustLoad(R"Y(
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: a
    static_configs:
      - targets: ["localhost:9090"]
)Y");
  ASSERT_EQ(c.scrape_configs.size(), 1u);
  const ScrapeConfig& s = c.scrape_configs[0];
  EXPECT_EQ(s.scrape_interval_ms, 15'000);
  EXPECT_EQ(s.scrape_timeout_ms, 10'000);
  EXPECT_EQ(s.metrics_path, "/metrics");
  EXPECT_EQ(s.scheme, "http");
  EXPECT_FALSE(s.honor_labels);
  EXPECT_TRUE(s.honor_timestamps);
  EXPECT_TRUE(s.http.follow_redirects);
  EXPECT_TRUE(s.http.enable_http2);
  ASSERT_EQ(s.static_configs.size(), 1u);
  EXPECT_EQ(s.static_configs[0].targets, std::vector<std::string>{"localhost:9090"});
}

TEST(ConfigLoader, ShortScrapeInterval_CapsDefaultTimeout) {
  const Config c = MustLoad("global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: a\n    scrape_interval: 2s\n");
  EXPECT_EQ(c.global.scrape_timeout_ms, 5'000);
  EXPECT_EQ(c.scrape_configs[0].scrape_timeout_ms, 2'000);
}

TEST(ConfigLoader, ZeroDurations_MeanUnset) {
  const Config c = MustLoad(
      "global:\n  scrape_interval: 0s\n  evaluation_interval: 0s\n"
      "scrape_configs:\n  - job_name: a\n    scrape_interval: 0s\n    scrape_timeout: 0s\n");
  EXPECT_EQ(c.global.scrape_interval_ms, 60'000);
  EXPECT_EQ(c.global.evaluation_interval_ms, 60'000);
  EXPECT_EQ(c.scrape_configs[0].scrape_interval_ms, 60'000);
  EXPECT_EQ(c.scrape_configs[0].scrape_timeout_ms, 10'000);
}

TEST(ConfigLoader, EveryScrapeField_IsDecoded) {
  const Config c = MustLoad(R"Y(
global:
  scrape_interval: 30s
  scrape_timeout: 20s
  evaluation_interval: 10s
  external_labels: {region: eu}
  query_log_file: queries.log
  body_size_limit: 1MB
  sample_limit: 9
scrape_configs:
  - job_name: full
    scrape_interval: 1m
    scrape_timeout: 50s
    metrics_path: /m
    scheme: https
    params: {module: [a, b]}
    honor_labels: true
    honor_timestamps: false
    basic_auth: {username: u, password_file: pw}
    tls_config: {ca_file: ca.pem, insecure_skip_verify: true, server_name: s, min_version: TLS12}
    follow_redirects: false
    enable_http2: false
    sample_limit: 100
    label_limit: 30
    label_name_length_limit: 40
    label_value_length_limit: 50
    target_limit: 60
    body_size_limit: 10KiB
    relabel_configs:
      - source_labels: [a, b]
        separator: "-"
        regex: "x(.*)"
        target_label: c
        replacement: "${1}y"
        action: Replace
    metric_relabel_configs:
      - action: labeldrop
        regex: tmp_.*
    static_configs:
      - targets: [h1:1, h2:2]
        labels: {env: prod}
    file_sd_configs:
      - files: [sd/*.json]
        refresh_interval: 30s
  - job_name: k8s
    kubernetes_sd_configs:
      - role: pod
        api_server: http://127.0.0.1:6443
        bearer_token: tok
        namespaces: {names: [default]}
        selectors: [{role: pod, label: "app=x"}]
)Y");
  EXPECT_EQ(c.global.external_labels.Get("region"), "eu");
  EXPECT_EQ(c.global.query_log_file, "/etc/vigil/queries.log");
  EXPECT_EQ(c.global.body_size_limit, 1 << 20);
  EXPECT_EQ(c.global.evaluation_interval_ms, 10'000);
  const ScrapeConfig& s = c.scrape_configs[0];
  EXPECT_EQ(s.scrape_interval_ms, 60'000);
  EXPECT_EQ(s.scrape_timeout_ms, 50'000);
  EXPECT_EQ(s.metrics_path, "/m");
  EXPECT_EQ(s.scheme, "https");
  EXPECT_EQ(s.params.at("module"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(s.honor_labels);
  EXPECT_FALSE(s.honor_timestamps);
  ASSERT_TRUE(s.http.basic_auth.has_value());
  EXPECT_EQ(s.http.basic_auth->password_file, "/etc/vigil/pw");
  EXPECT_TRUE(s.http.tls_config.insecure_skip_verify);
  EXPECT_EQ(s.http.tls_config.ca_file, "/etc/vigil/ca.pem");
  EXPECT_EQ(s.http.tls_config.min_version, "TLS12");
  EXPECT_FALSE(s.http.follow_redirects);
  EXPECT_FALSE(s.http.enable_http2);
  EXPECT_EQ(s.sample_limit, 100);
  EXPECT_EQ(s.label_limit, 30);
  EXPECT_EQ(s.label_name_length_limit, 40);
  EXPECT_EQ(s.label_value_length_limit, 50);
  EXPECT_EQ(s.target_limit, 60);
  EXPECT_EQ(s.body_size_limit, 10 * 1024);
  ASSERT_EQ(s.relabel_configs.size(), 1u);
  EXPECT_EQ(s.relabel_configs[0].separator, "-");
  EXPECT_EQ(s.relabel_configs[0].replacement, "${1}y");
  EXPECT_EQ(s.relabel_configs[0].action, RelabelAction::kReplace);
  ASSERT_EQ(s.metric_relabel_configs.size(), 1u);
  EXPECT_EQ(s.metric_relabel_configs[0].action, RelabelAction::kLabelDrop);
  EXPECT_EQ(s.static_configs[0].labels.Get("env"), "prod");
  EXPECT_EQ(s.file_sd_configs[0].files[0], "/etc/vigil/sd/*.json");
  EXPECT_EQ(s.file_sd_configs[0].refresh_interval_ms, 30'000);
  const KubernetesSdConfig& k = c.scrape_configs[1].kubernetes_sd_configs[0];
  EXPECT_EQ(k.role, "pod");
  EXPECT_EQ(k.api_server, "http://127.0.0.1:6443");
  ASSERT_TRUE(k.http.authorization.has_value());
  EXPECT_EQ(k.http.authorization->credentials, "tok");
  EXPECT_EQ(k.namespaces, std::vector<std::string>{"default"});
  EXPECT_EQ(k.selectors[0].label, "app=x");
  // Global limits are defaults for jobs that do not set their own.
  EXPECT_EQ(c.scrape_configs[1].sample_limit, 9);
  EXPECT_EQ(c.scrape_configs[1].body_size_limit, 1 << 20);
}

TEST(ConfigLoader, OtherSections_AreDecoded) {
  const Config c = MustLoad(R"Y(
rule_files: [rules/*.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["am:9093"]}]
      timeout: 5s
remote_write:
  - url: http://mimir:9009/api/v1/push
    name: mimir
    queue_config: {capacity: 10, max_shards: 2}
    write_relabel_configs: [{action: drop, source_labels: [__name__], regex: go_.*}]
remote_read:
  - url: http://thanos:10902/api/v1/read
    read_recent: true
storage:
  tsdb: {out_of_order_time_window: 10m}
  exemplars: {max_exemplars: 100}
)Y");
  EXPECT_EQ(c.rule_files, std::vector<std::string>{"/etc/vigil/rules/*.yml"});
  EXPECT_EQ(c.alerting.alertmanagers[0].timeout_ms, 5'000);
  EXPECT_EQ(c.alerting.alertmanagers[0].api_version, "v2");
  EXPECT_EQ(c.remote_write[0].name, "mimir");
  EXPECT_EQ(c.remote_write[0].queue_config.capacity, 10);
  EXPECT_EQ(c.remote_write[0].remote_timeout_ms, 30'000);
  EXPECT_EQ(c.remote_read[0].remote_timeout_ms, 60'000);
  EXPECT_TRUE(c.remote_read[0].read_recent);
  EXPECT_EQ(c.storage.out_of_order_time_window_ms, 600'000);
  EXPECT_EQ(c.storage.max_exemplars, 100);
}

TEST(ConfigLoader, BearerTokenFile_BecomesBearerAuthorization) {
  const Config c = MustLoad("scrape_configs:\n  - job_name: a\n    bearer_token_file: /t\n");
  ASSERT_TRUE(c.scrape_configs[0].http.authorization.has_value());
  EXPECT_EQ(c.scrape_configs[0].http.authorization->type, "Bearer");
  EXPECT_EQ(c.scrape_configs[0].http.authorization->credentials_file, "/t");
}

TEST(ConfigLoader, ConfigToYaml_RoundTrips) {
  const Config c = MustLoad("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    static_configs: [{targets: [\"x:1\"]}]\n    relabel_configs: [{target_label: t, replacement: v}]\n");
  const std::string yaml = ConfigToYaml(c);
  auto again = LoadConfigString(yaml, "x.yml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(again->scrape_configs[0], c.scrape_configs[0]);
  EXPECT_NE(yaml.find("scrape_interval: 15s"), std::string::npos);
}

// Prometheus 2.48 config.go: `track_timestamps_staleness`, false unless set, written
// right after honor_timestamps.
TEST(ConfigLoader, TrackTimestampsStaleness_DefaultsToFalseAndRoundTrips) {
  const Config c = MustLoad(
      "scrape_configs:\n  - job_name: a\n  - job_name: b\n    track_timestamps_staleness: true\n");
  EXPECT_FALSE(c.scrape_configs[0].track_timestamps_staleness);
  EXPECT_TRUE(c.scrape_configs[1].track_timestamps_staleness);
  const std::string yaml = ConfigToYaml(c);
  EXPECT_NE(yaml.find("honor_timestamps: true\n    track_timestamps_staleness: false"),
            std::string::npos)
      << yaml;
  auto again = LoadConfigString(yaml, "x.yml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(again->scrape_configs, c.scrape_configs);
  EXPECT_FALSE(LoadConfigString(
                   "scrape_configs:\n  - job_name: a\n    track_timestamps_staleness: 3\n", "x.yml")
                   .ok());
}

TEST(ConfigLoader, ConfigToYaml_HidesOAuth2SecretAndProxyPassword) {
  const Config c = MustLoad(
      "scrape_configs:\n  - job_name: a\n    proxy_url: http://pu:proxy-pw@127.0.0.1:3128\n"
      "    oauth2:\n      client_id: vigil\n      client_secret: hunter2\n"
      "      scopes: [read]\n      token_url: http://127.0.0.1:1/token\n"
      "      endpoint_params: {audience: metrics}\n");
  const auto& oauth2 = c.scrape_configs[0].http.oauth2;
  ASSERT_TRUE(oauth2.has_value());
  EXPECT_EQ(oauth2->client_secret, "hunter2");
  EXPECT_EQ(oauth2->endpoint_params.at("audience"), "metrics");
  const std::string yaml = ConfigToYaml(c);
  EXPECT_EQ(yaml.find("hunter2"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("proxy-pw"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("client_secret: <secret>"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("proxy_url: http://pu:xxxxx@127.0.0.1:3128"), std::string::npos) << yaml;
}

TEST(ConfigLoader, RedactConfigText_HidesSecretsAndKeepsTheRest) {
  const std::string text =
      "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u, password: pw1}\n"
      "    proxy_url: http://pu:pw2@127.0.0.1:3128\n"
      "    oauth2: {client_id: i, client_secret: pw3, token_url: 'http://t/'}\n"
      "  - job_name: b\n    bearer_token: pw4\n    authorization: {credentials: pw5}\n";
  const std::string redacted = RedactConfigText(text);
  for (const char* secret : {"pw1", "pw2", "pw3", "pw4", "pw5"}) {
    EXPECT_EQ(redacted.find(secret), std::string::npos) << secret << " in\n" << redacted;
  }
  EXPECT_NE(redacted.find("username: u"), std::string::npos) << redacted;
  EXPECT_NE(redacted.find("http://pu:xxxxx@127.0.0.1:3128"), std::string::npos) << redacted;
  const std::string plain = "global:\n  scrape_interval: 15s  # a comment stays\n";
  EXPECT_EQ(RedactConfigText(plain), plain);
}

struct InvalidCase {
  const char* name;
  const char* yaml;
  int line;
  const char* problem;
};

class InvalidConfig : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidConfig, ErrorNamesFileLineAndProblem) {
  const InvalidCase& tc = GetParam();
  auto c = LoadConfigString(tc.yaml, "bad.yml");
  ASSERT_FALSE(c.ok()) << tc.name;
  const std::string& msg = c.status().message();
  EXPECT_NE(msg.find("bad.yml"), std::string::npos) << msg;
  EXPECT_NE(msg.find("line " + std::to_string(tc.line) + ","), std::string::npos) << msg;
  EXPECT_NE(msg.find(tc.problem), std::string::npos) << msg;
}

const InvalidCase kInvalid[] = {
    {"UnknownTopLevel", "global: {}\nfoo: 1\n", 2, "field foo not found"},
    {"UnknownGlobal", "global:\n  scrape_intervall: 1m\n", 2, "field scrape_intervall not found"},
    {"UnknownScrapeField", "scrape_configs:\n  - job_name: a\n    foo: 1\n", 3, "field foo not found in scrape config"},
    {"BadDuration", "global:\n  scrape_interval: 10x\n", 2, "not a valid duration string: \"10x\""},
    {"NegativeDuration", "global:\n  scrape_interval: -1s\n", 2, "not a valid duration"},
    {"GlobalTimeoutOverInterval", "global:\n  scrape_interval: 5s\n  scrape_timeout: 10s\n", 3, "global scrape timeout greater than scrape interval"},
    {"JobTimeoutOverInterval", "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n", 2, "scrape timeout greater than scrape interval for scrape config with job name \"a\""},
    {"EmptyJobName", "scrape_configs:\n  - scrape_interval: 5s\n", 2, "job_name is empty"},
    {"DuplicateJob", "scrape_configs:\n  - job_name: a\n  - job_name: a\n", 3, "found multiple scrape configs with job name \"a\""},
    {"BadScheme", "scrape_configs:\n  - job_name: a\n    scheme: ftp\n", 3, "scheme must be"},
    {"BadBool", "scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n", 3, "into bool"},
    {"BadInt", "scrape_configs:\n  - job_name: a\n    sample_limit: lots\n", 3, "non-negative integer"},
    {"BadSize", "scrape_configs:\n  - job_name: a\n    body_size_limit: 10QB\n", 3, "10QB"},
    {"BadExternalLabelName", "global:\n  external_labels:\n    0bad: x\n", 3, "\"0bad\" is not a valid label name"},
    {"BadStaticLabelName", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [x:1]\n        labels: {a-b: c}\n", 5, "\"a-b\" is not a valid label name"},
    {"TargetWithSlash", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [\"http://x:1\"]\n", 4, "is not a valid hostname"},
    {"UnknownStaticField", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - target: [x]\n", 4, "field target not found"},
    {"BadRegex", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: \"(\"\n", 4, "error parsing regexp"},
    {"UnknownAction", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n", 4, "unknown relabel action \"explode\""},
    {"HashmodWithoutModulus", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: t\n", 4, "requires non-zero modulus"},
    {"ReplaceWithoutTarget", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [a]\n", 4, "requires 'target_label' value"},
    {"ReplaceInvalidTarget", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: \"1x\"\n", 4, "\"1x\" is invalid 'target_label' for replace action"},
    {"LowercaseWithReplacement", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: lowercase\n        target_label: t\n        replacement: x\n", 4, "'replacement' can not be set for lowercase action"},
    {"LabelDropWithTarget", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labeldrop\n        target_label: t\n", 4, "labeldrop action requires only 'regex'"},
    {"KeepEqualWithRegex", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: keepequal\n        target_label: t\n        regex: x\n", 4, "keepequal action requires only 'source_labels'"},
    {"LabelMapBadReplacement", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: labelmap\n        replacement: \"a-b\"\n", 4, "is invalid 'replacement' for labelmap action"},
    {"BadSourceLabel", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - source_labels: [\"a.b\"]\n        target_label: x\n", 4, "\"a.b\" is not a valid label name"},
    {"BearerTokenAndFile", "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n", 2, "at most one of bearer_token & bearer_token_file"},
    {"BasicAuthAndBearer", "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    bearer_token: x\n", 2, "at most one of basic_auth, oauth2, bearer_token"},
    {"PasswordAndFile", "scrape_configs:\n  - job_name: a\n    basic_auth:\n      username: u\n      password: p\n      password_file: f\n", 4, "at most one of basic_auth password & password_file"},
    {"AuthorizationBasic", "scrape_configs:\n  - job_name: a\n    authorization:\n      type: basic\n", 4, "use \"basic_auth\" instead"},
    {"TlsCertWithoutKey", "scrape_configs:\n  - job_name: a\n    tls_config:\n      cert_file: c.pem\n", 4, "exactly one of key and key_file"},
    {"TlsBadVersion", "scrape_configs:\n  - job_name: a\n    tls_config:\n      min_version: SSL3\n", 4, "unknown TLS version"},
    {"FileSdNoFiles", "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - refresh_interval: 1m\n", 4, "must contain at least one path name"},
    {"FileSdBadExtension", "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n", 4, "path name \"targets.txt\" is not valid for file discovery"},
    {"KubernetesNoRole", "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - api_server: http://k:6443\n", 4, "role missing"},
    {"KubernetesBadRole", "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: container\n", 4, "unknown Kubernetes SD role \"container\""},
    {"KubernetesHttpWithoutServer", "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        bearer_token: x\n", 4, "please provide the 'api_server' URL"},
    {"KubernetesBadUrl", "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: pod\n        api_server: \"k8s:6443\"\n", 5, "is not a valid URL"},
    {"RemoteWriteNoUrl", "remote_write:\n  - name: x\n", 2, "url for remote_write is empty"},
    {"RemoteWriteReservedHeader", "remote_write:\n  - url: http://x/\n    headers: {Authorization: x}\n", 3, "is a reserved header"},
    {"RemoteWriteDuplicateName", "remote_write:\n  - url: http://x/\n    name: a\n  - url: http://y/\n    name: a\n", 4, "found multiple remote write configs"},
    {"RemoteReadNoUrl", "remote_read:\n  - read_recent: true\n", 2, "url for remote_read is empty"},
    {"AlertmanagerBadApi", "alerting:\n  alertmanagers:\n    - api_version: v3\n", 3, "api version"},
    {"BadRuleFile", "rule_files: [\"rules/*/x.yml\"]\n", 1, "invalid rule file path"},
    {"DuplicateKey", "global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n", 3, "already defined"},
    {"WrongShape", "scrape_configs:\n  job_name: a\n", 2, "cannot unmarshal"},
    {"YamlSyntax", "global:\n  scrape_interval: [1m\n", 3, ""},
    {"UnknownStorageField", "storage:\n  tsdb:\n    retention: 1d\n", 3, "field retention not found"},
    // Quoting as promtool 2.42 prints it: %q escapes, yaml's backquotes cut long values, %v/%s none.
    {"DuplicateJobQuotedAsGo", "scrape_configs:\n  - job_name: \"j\\tx\"\n  - job_name: \"j\\tx\"\n", 3, "found multiple scrape configs with job name \"j\\tx\""},
    {"BadLabelNameQuotedAsGo", "global:\n  external_labels:\n    \"a\\tb\": x\n", 3, "\"a\\tb\" is not a valid label name"},
    {"BadBoolInBackquotes", "scrape_configs:\n  - job_name: a\n    honor_labels: \"ab\\tc\"\n", 3, "cannot unmarshal !!str `ab\tc` into bool"},
    {"LongBadBoolIsCut", "scrape_configs:\n  - job_name: a\n    honor_labels: abcdefghijkl\n", 3, "cannot unmarshal !!str `abcdefg...` into bool"},
    {"DuplicateExternalLabel", "global:\n  external_labels:\n    a: x\n    a: y\n", 4, "mapping key \"a\" already defined"},
    {"TargetLabelNotAString", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {a: [x]}\n", 4, "cannot unmarshal !!seq into string"},
    {"AlertmanagerBadApiUnquoted", "alerting:\n  alertmanagers:\n    - api_version: v3\n", 3, "one of [v1 v2] but got v3"},
    {"ReservedHeaderUnquoted", "remote_write:\n  - url: http://x/\n    headers: {Host: x}\n", 3, "Host is a reserved header"},
};

INSTANTIATE_TEST_SUITE_P(Table, InvalidConfig, ::testing::ValuesIn(kInvalid),
                         [](const auto& info) { return std::string(info.param.name); });

// proxy_url and oauth2.
const InvalidCase kInvalidAuth[] = {
    {"ProxyUrlNotHttp",
     "scrape_configs:\n  - job_name: a\n    proxy_url: socks5://u:pw@proxy:1080\n", 3,
     "unsupported proxy_url scheme (Vigil speaks to HTTP proxies only, http://host:port): "
     "socks5://u:xxxxx@proxy:1080"},
    {"ProxyUrlWithoutPort", "scrape_configs:\n  - job_name: a\n    proxy_url: http://proxy\n", 3,
     "proxy_url needs a port"},
    {"OAuth2AndBasicAuth",
     "scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    oauth2: {client_id: i, "
     "token_url: 'http://t/'}\n",
     2, "at most one of basic_auth, oauth2, bearer_token"},
    {"OAuth2AndAuthorization",
     "scrape_configs:\n  - job_name: a\n    authorization: {credentials: c}\n    oauth2: "
     "{client_id: i, token_url: 'http://t/'}\n",
     2, "at most one of oauth2 & authorization"},
    {"OAuth2SecretAndFile",
     "scrape_configs:\n  - job_name: a\n    oauth2:\n      client_id: i\n      client_secret: s\n  "
     "    client_secret_file: f\n      token_url: http://t/\n",
     4, "at most one of oauth2 client_secret & client_secret_file"},
    {"OAuth2UnknownField",
     "scrape_configs:\n  - job_name: a\n    oauth2:\n      client_id: i\n      grant: x\n      "
     "token_url: http://t/\n",
     5, "grant"},
};
INSTANTIATE_TEST_SUITE_P(Auth, InvalidConfig, ::testing::ValuesIn(kInvalidAuth),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigLoader, NullLabelValue_IsEmptyAsInPrometheus) {
  auto c = LoadConfigString("global:\n  external_labels:\n    a:\n    b: x\n", "p.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->global.external_labels, (Labels{{"a", ""}, {"b", "x"}}));
}

TEST(ConfigLoader, MissingFile_IsAnError) {
  auto c = LoadConfigFile("/nonexistent/prometheus.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/prometheus.yml"), std::string::npos);
}

TEST(ConfigLoader, ExampleConfigs_Load) {
  for (const char* f : {"/examples/prometheus.yml", "/examples/configs/kubernetes-pods.yml",
                        "/examples/configs/file-sd.yml", "/examples/configs/vigil-extensions.yml"}) {
    auto c = LoadConfigFile(std::string(VIGIL_SOURCE_DIR) + f);
    EXPECT_TRUE(c.ok()) << f << ": " << c.status().ToString();
  }
}

// Hostile configs (config_loader_fuzz, docs/fuzzing.md): each must fail with
// an error naming the problem, quickly, never crash or hang.
std::string LoadError(const std::string& yaml) {
  auto c = LoadConfigString(yaml, "/etc/vigil/prometheus.yml");
  return c.ok() ? "loaded" : c.status().message();
}

// One anchored list of 3000 targets aliased by 3000 static configs: 9 M
// targets from 40 KB of text. Before the fix the loader built them all.
TEST(ConfigLoader, AliasBomb_IsRejectedAsExcessiveAliasing) {
  std::string yaml = "scrape_configs:\n  - job_name: bomb\n    static_configs:\n      - &g {targets: &t [";
  for (int i = 0; i < 3000; ++i) yaml += "a:1,";
  yaml += "]}\n";
  for (int i = 0; i < 3000; ++i) yaml += "      - *g\n";
  EXPECT_NE(LoadError(yaml).find("document contains excessive aliasing"), std::string::npos);

  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) laughs += std::string("*") + static_cast<char>(c - 1) + ",";
    laughs += "]\n";
  }
  EXPECT_NE(LoadError(laughs).find("excessive aliasing"), std::string::npos);
}

// config_loader_fuzz found it: an alias inside its own anchor is a cycle in
// yaml-cpp's node graph, and the alias-expansion walk overflowed the stack.
TEST(ConfigLoader, AliasInsideItsOwnAnchor_IsAnError) {
  EXPECT_NE(LoadError("scrape_configs: &a [*a]\n").find("excessive aliasing"), std::string::npos);
  EXPECT_NE(LoadError("global: &g\n  external_labels: *g\n").find("excessive aliasing"),
            std::string::npos);
}

TEST(ConfigLoader, ModerateAliasReuse_IsAccepted) {
  std::string relabels = "&r\n";
  for (int k = 0; k < 20; ++k) {
    relabels += "      - {source_labels: [__address__], target_label: l" + std::to_string(k) + "}\n";
  }
  std::string yaml = "scrape_configs:\n";
  for (int i = 0; i < 50; ++i) {
    yaml += "  - job_name: j" + std::to_string(i) + "\n    relabel_configs: ";
    yaml += i == 0 ? relabels : "*r\n";
  }
  const Config c = MustLoad(yaml);
  ASSERT_EQ(c.scrape_configs.size(), 50u);
  EXPECT_EQ(c.scrape_configs[49].relabel_configs.size(), 20u);
}

TEST(ConfigLoader, DeepNesting_IsAnError) {
  EXPECT_NE(LoadError("scrape_configs: " + std::string(100000, '[')), "loaded");
  EXPECT_NE(LoadError("global:\n" + std::string(50000, '-')), "loaded");
  std::string nested = "scrape_configs:\n";
  for (int i = 0; i < 5000; ++i) nested += std::string(2 + i, ' ') + "- \n";
  EXPECT_NE(LoadError(nested), "loaded");
}

TEST(ConfigLoader, HugeDuration_IsAnError) {
  EXPECT_NE(LoadError("global:\n  scrape_interval: 99999999999y\n").find(
                "line 2, column 20: not a valid duration string: \"99999999999y\""),
            std::string::npos);
  EXPECT_NE(LoadError("scrape_configs:\n  - job_name: a\n    scrape_timeout: 292471208y35w3d\n")
                .find("not a valid duration string"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::config
