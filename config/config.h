// The prometheus.yml configuration model: yaml-cpp in, typed structs out. No
// YAML node passes beyond the loader. Field names, defaults and validation
// follow Prometheus 2.42's configuration reference; unknown fields are errors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/status.h"
#include "config/relabel.h"

namespace vigil::config {

struct GlobalConfig {
  int64_t scrape_interval_ms = 60'000;
  int64_t scrape_timeout_ms = 10'000;
  int64_t evaluation_interval_ms = 60'000;
  Labels external_labels;
  std::string query_log_file;
  // Defaults for every scrape config (Vigil accepts them globally; 0 = unlimited).
  int64_t body_size_limit = 0;  // bytes
  int64_t sample_limit = 0;
  int64_t label_limit = 0;
  int64_t label_name_length_limit = 0;
  int64_t label_value_length_limit = 0;
  int64_t target_limit = 0;
  // How many dropped targets each scrape pool keeps for /api/v1/targets (2.47; 0 = all).
  int64_t keep_dropped_targets = 0;
};

// One static_configs / file_sd / Kubernetes group: targets plus common labels.
struct TargetGroup {
  std::vector<std::string> targets;  // host:port (the __address__ of each target)
  Labels labels;                     // applied to every target of the group
  std::string source;                // identifies the group within its provider
  // Per-target extra labels (Kubernetes: one set per container port); when
  // non-empty it has one entry per target and overrides `labels` on conflict.
  std::vector<Labels> target_labels;

  bool operator==(const TargetGroup&) const = default;
};

struct TlsConfig {
  std::string ca_file, cert_file, key_file;
  std::string ca, cert, key;  // inline PEM
  std::string server_name;
  bool insecure_skip_verify = false;
  std::string min_version;  // "", TLS10, TLS11, TLS12, TLS13

  bool operator==(const TlsConfig&) const = default;
};

struct BasicAuth {
  std::string username;
  std::string password;
  std::string password_file;

  bool operator==(const BasicAuth&) const = default;
};

// `authorization:`; bearer_token(_file) is folded into it with type Bearer.
struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;

  bool operator==(const Authorization&) const = default;
};

// Where a client's requests go: Prometheus's ProxyConfig (prometheus/common
// v0.44), inlined in every HTTP client config and in oauth2.
struct ProxyConfig {
  // http://[user:password@]host:port: requests go through this HTTP proxy
  // (absolute-URI requests for http targets, CONNECT tunnels for https).
  std::string proxy_url;
  // Comma-separated hosts, domains (".example.com" subdomains only,
  // "example.com" also itself), IPs, CIDRs, each with an optional :port, and
  // "*": requests to those go direct. Needs proxy_url.
  std::string no_proxy;
  // HTTP_PROXY / HTTPS_PROXY / NO_PROXY (or their lowercase forms) choose the
  // proxy, as Go's http.ProxyFromEnvironment. Excludes proxy_url and no_proxy.
  bool proxy_from_environment = false;
  // Headers sent on the CONNECT request of https-through-proxy tunnels; the
  // values are secrets.
  std::map<std::string, std::vector<std::string>> proxy_connect_header;

  bool operator==(const ProxyConfig&) const = default;
};

// `oauth2:` (client credentials flow): a token fetched from token_url with
// client_id and the secret, cached until it expires, sent as Authorization.
struct OAuth2 {
  std::string client_id;
  std::string client_secret;
  std::string client_secret_file;
  std::vector<std::string> scopes;
  std::string token_url;
  std::map<std::string, std::string> endpoint_params;
  TlsConfig tls_config;  // for the token endpoint
  ProxyConfig proxy;     // for the token endpoint

  bool operator==(const OAuth2&) const = default;
};

// The HTTP client settings shared by scrape configs, SD configs and remote endpoints.
struct HttpClientConfig {
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  std::optional<OAuth2> oauth2;
  TlsConfig tls_config;
  ProxyConfig proxy;
  bool follow_redirects = true;
  bool enable_http2 = true;

  bool operator==(const HttpClientConfig&) const = default;
};

struct FileSdConfig {
  std::vector<std::string> files;  // resolved against the config file's directory
  int64_t refresh_interval_ms = 5 * 60'000;

  bool operator==(const FileSdConfig&) const = default;
};

struct KubernetesSdConfig {
  std::string role;        // pod, node, service, endpoints, endpointslice, ingress
  std::string api_server;  // empty: in-cluster config from the environment
  std::string kubeconfig_file;
  HttpClientConfig http;
  bool own_namespace = false;
  std::vector<std::string> namespaces;  // empty: all namespaces
  struct Selector {
    std::string role, label, field;
    bool operator==(const Selector&) const = default;
  };
  std::vector<Selector> selectors;
  bool attach_metadata_node = false;

  bool operator==(const KubernetesSdConfig&) const = default;
};

// The scrape_configs entry. Zero limits mean "unlimited".
struct ScrapeConfig {
  std::string job_name;
  int64_t scrape_interval_ms = 0;  // filled from global when absent
  int64_t scrape_timeout_ms = 0;   // filled from global when absent
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  // 2.48: samples with their own timestamp get staleness markers too when
  // they vanish or the target goes down (off: they get none, as before 2.48).
  bool track_timestamps_staleness = false;
  HttpClientConfig http;
  int64_t sample_limit = 0;
  int64_t label_limit = 0;
  int64_t label_name_length_limit = 0;
  int64_t label_value_length_limit = 0;
  int64_t target_limit = 0;
  int64_t body_size_limit = 0;  // bytes
  int64_t keep_dropped_targets = 0;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<KubernetesSdConfig> kubernetes_sd_configs;
  // The scrape_config_files file this job came from (absolute); empty for the main file.
  std::string source_file;

  bool operator==(const ScrapeConfig&) const = default;
};

// Service discovery and static targets of one Alertmanager set.
struct AlertmanagerConfig {
  std::string scheme = "http";
  std::string path_prefix = "/";
  int64_t timeout_ms = 10'000;
  std::string api_version = "v2";
  HttpClientConfig http;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<KubernetesSdConfig> kubernetes_sd_configs;
  bool operator==(const AlertmanagerConfig&) const = default;
};

struct AlertingConfig {
  std::vector<RelabelConfig> alert_relabel_configs;
  std::vector<AlertmanagerConfig> alertmanagers;
};

struct QueueConfig {
  int64_t capacity = 2500;
  int64_t max_shards = 200;
  int64_t min_shards = 1;
  int64_t max_samples_per_send = 500;
  int64_t batch_send_deadline_ms = 5'000;
  int64_t min_backoff_ms = 30;
  int64_t max_backoff_ms = 5'000;
  bool retry_on_http_429 = false;

  bool operator==(const QueueConfig&) const = default;
};

struct MetadataConfig {
  bool send = true;
  int64_t send_interval_ms = 60'000;
  int64_t max_samples_per_send = 500;

  bool operator==(const MetadataConfig&) const = default;
};

struct RemoteWriteConfig {
  std::string url;
  std::string name;
  int64_t remote_timeout_ms = 30'000;
  std::map<std::string, std::string> headers;
  std::vector<RelabelConfig> write_relabel_configs;
  bool send_exemplars = false;
  HttpClientConfig http;
  QueueConfig queue_config;
  MetadataConfig metadata_config;

  bool operator==(const RemoteWriteConfig&) const = default;
};

struct RemoteReadConfig {
  std::string url;
  std::string name;
  int64_t remote_timeout_ms = 60'000;
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> required_matchers;
  bool read_recent = false;
  bool filter_external_labels = true;
  HttpClientConfig http;

  bool operator==(const RemoteReadConfig&) const = default;
};

struct StorageConfig {
  int64_t out_of_order_time_window_ms = 0;
  int64_t max_exemplars = 0;
};

struct Config {
  GlobalConfig global;
  // The main file's jobs, then those of every scrape_config_files file in order.
  std::vector<ScrapeConfig> scrape_configs;
  // scrape_config_files globs, resolved against the config's directory. The
  // loader reads the files they match at every load (and so at every reload).
  std::vector<std::string> scrape_config_files;
  std::vector<std::string> rule_files;  // globs, resolved against the config's directory
  AlertingConfig alerting;
  std::vector<RemoteWriteConfig> remote_write;
  std::vector<RemoteReadConfig> remote_read;
  StorageConfig storage;
  std::string source_file;  // path the config was read from
  std::string original;     // the file's text, as read
};

// How a config is loaded, from the server's flags.
struct LoadOptions {
  // --enable-feature=expand-external-labels: `${var}` and `$var` in
  // external_labels values become the environment variable's value (empty
  // when unset), `$$` a `$`, as Go's os.Expand; Config::original then shows
  // the expanded values, as Prometheus's /api/v1/status/config does.
  bool expand_external_labels = false;
};

// Loads and validates a config file. Errors name the file, line, column and
// problem, e.g. `parsing YAML file p.yml: line 4, column 5: field foo not
// found in scrape config`.
Result<Config> LoadConfigFile(const std::string& path, const LoadOptions& options = {});
// Same for text already in memory; `filename` is used in error messages and
// relative paths (file_sd files, rule files) resolve against its directory.
Result<Config> LoadConfigString(const std::string& yaml, const std::string& filename,
                                const LoadOptions& options = {});

// `text` with `${var}` and `$var` replaced by lookup(var), as Go's os.Expand
// ("$$" asks lookup for "$"; "${}" and an unclosed "${" are dropped).
std::string ExpandVariables(std::string_view text,
                            const std::function<std::string(const std::string&)>& lookup);

// The fields the loader accepts, per section as its errors name it ("scrape
// config", "tls_config", ...): the key set of every section it has checked a
// mapping of so far in this process, for the audit test
// (tests/config/config_audit_test.cc). A field appears here even when the
// loader then refuses it with a dedicated error.
std::map<std::string, std::vector<std::string>> AcceptedConfigFields();

// The effective configuration (defaults filled in) as YAML, for /api/v1/status/config.
std::string ConfigToYaml(const Config& config);

// A config file's text with its secrets (password, credentials, bearer_token,
// client_secret) shown as <secret> and proxy passwords as xxxxx, as
// Prometheus shows them; the text unchanged when it holds none.
std::string RedactConfigText(const std::string& yaml);

}  // namespace vigil::config
