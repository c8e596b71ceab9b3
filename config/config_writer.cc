// ConfigToYaml: the effective configuration, defaults filled in, in the shape
// Prometheus's /api/v1/status/config shows it.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "base/duration.h"
#include "config/config.h"
#include "config/http_client.h"

namespace vigil::config {
namespace {

void EmitLabels(YAML::Emitter& out, const char* key, const Labels& labels) {
  if (labels.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginMap;
  for (const Label& l : labels) out << YAML::Key << l.name << YAML::Value << l.value;
  out << YAML::EndMap;
}

void EmitTls(YAML::Emitter& out, const TlsConfig& t) {
  out << YAML::Key << "tls_config" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "insecure_skip_verify" << YAML::Value << t.insecure_skip_verify;
  out << YAML::EndMap;
}

// Secrets show as <secret>, as Prometheus's config.Secret.
// The proxy fields, omitted when unset as prometheus/common's omitempty does;
// connect header values are secrets.
void EmitProxy(YAML::Emitter& out, const ProxyConfig& p) {
  if (!p.proxy_url.empty())
    out << YAML::Key << "proxy_url" << YAML::Value << RedactUrl(p.proxy_url);
  if (!p.no_proxy.empty()) out << YAML::Key << "no_proxy" << YAML::Value << p.no_proxy;
  if (p.proxy_from_environment) out << YAML::Key << "proxy_from_environment" << YAML::Value << true;
  if (p.proxy_connect_header.empty()) return;
  out << YAML::Key << "proxy_connect_header" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, values] : p.proxy_connect_header) {
    out << YAML::Key << name << YAML::Value << YAML::BeginSeq;
    for (const std::string& v : values) {
      if (v.empty()) {
        out << YAML::Null;
      } else {
        out << "<secret>";
      }
    }
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

void EmitOAuth2(YAML::Emitter& out, const OAuth2& o) {
  out << YAML::Key << "oauth2" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "client_id" << YAML::Value << o.client_id;
  if (!o.client_secret.empty()) out << YAML::Key << "client_secret" << YAML::Value << "<secret>";
  if (!o.client_secret_file.empty()) {
    out << YAML::Key << "client_secret_file" << YAML::Value << o.client_secret_file;
  }
  if (!o.scopes.empty()) out << YAML::Key << "scopes" << YAML::Value << o.scopes;
  out << YAML::Key << "token_url" << YAML::Value << o.token_url;
  if (!o.endpoint_params.empty()) {
    out << YAML::Key << "endpoint_params" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : o.endpoint_params) out << YAML::Key << k << YAML::Value << v;
    out << YAML::EndMap;
  }
  EmitTls(out, o.tls_config);
  EmitProxy(out, o.proxy);
  out << YAML::EndMap;
}

void EmitHttp(YAML::Emitter& out, const HttpClientConfig& h) {
  if (h.basic_auth) {
    out << YAML::Key << "basic_auth" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "username" << YAML::Value << h.basic_auth->username;
    if (!h.basic_auth->password.empty()) out << YAML::Key << "password" << YAML::Value << "<secret>";
    if (!h.basic_auth->password_file.empty()) {
      out << YAML::Key << "password_file" << YAML::Value << h.basic_auth->password_file;
    }
    out << YAML::EndMap;
  }
  if (h.authorization) {
    out << YAML::Key << "authorization" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "type" << YAML::Value << h.authorization->type;
    if (!h.authorization->credentials.empty()) {
      out << YAML::Key << "credentials" << YAML::Value << "<secret>";
    }
    if (!h.authorization->credentials_file.empty()) {
      out << YAML::Key << "credentials_file" << YAML::Value << h.authorization->credentials_file;
    }
    out << YAML::EndMap;
  }
  if (h.oauth2) EmitOAuth2(out, *h.oauth2);
  EmitTls(out, h.tls_config);
  EmitProxy(out, h.proxy);
  out << YAML::Key << "follow_redirects" << YAML::Value << h.follow_redirects;
  out << YAML::Key << "enable_http2" << YAML::Value << h.enable_http2;
}

void EmitRelabels(YAML::Emitter& out, const char* key, const std::vector<RelabelConfig>& rs) {
  if (rs.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const RelabelConfig& r : rs) {
    out << YAML::BeginMap;
    if (!r.source_labels.empty()) {
      out << YAML::Key << "source_labels" << YAML::Value << YAML::Flow << r.source_labels;
    }
    out << YAML::Key << "separator" << YAML::Value << r.separator;
    if (r.modulus != 0) out << YAML::Key << "modulus" << YAML::Value << r.modulus;
    out << YAML::Key << "regex" << YAML::Value << r.regex;
    if (!r.target_label.empty()) out << YAML::Key << "target_label" << YAML::Value << r.target_label;
    out << YAML::Key << "replacement" << YAML::Value << r.replacement;
    out << YAML::Key << "action" << YAML::Value << std::string(RelabelActionName(r.action));
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void EmitDiscovery(YAML::Emitter& out, const std::vector<TargetGroup>& statics,
                   const std::vector<FileSdConfig>& files,
                   const std::vector<KubernetesSdConfig>& kubes) {
  if (!files.empty()) {
    out << YAML::Key << "file_sd_configs" << YAML::Value << YAML::BeginSeq;
    for (const FileSdConfig& f : files) {
      out << YAML::BeginMap << YAML::Key << "files" << YAML::Value << f.files;
      out << YAML::Key << "refresh_interval" << YAML::Value << FormatDuration(f.refresh_interval_ms);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!kubes.empty()) {
    out << YAML::Key << "kubernetes_sd_configs" << YAML::Value << YAML::BeginSeq;
    for (const KubernetesSdConfig& k : kubes) {
      out << YAML::BeginMap << YAML::Key << "role" << YAML::Value << k.role;
      if (!k.api_server.empty()) out << YAML::Key << "api_server" << YAML::Value << k.api_server;
      out << YAML::Key << "kubeconfig_file" << YAML::Value << k.kubeconfig_file;
      EmitHttp(out, k.http);
      out << YAML::Key << "namespaces" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "own_namespace" << YAML::Value << k.own_namespace;
      out << YAML::Key << "names" << YAML::Value << k.namespaces << YAML::EndMap;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
  if (!statics.empty()) {
    out << YAML::Key << "static_configs" << YAML::Value << YAML::BeginSeq;
    for (const TargetGroup& g : statics) {
      out << YAML::BeginMap << YAML::Key << "targets" << YAML::Value << g.targets;
      EmitLabels(out, "labels", g.labels);
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
  }
}

void EmitLimit(YAML::Emitter& out, const char* key, int64_t v) {
  if (v != 0) out << YAML::Key << key << YAML::Value << v;
}

// The limits global and scrape configs share, in Prometheus 2.48's order.
void EmitLimits(YAML::Emitter& out, int64_t body_size, int64_t sample, int64_t target,
                int64_t label, int64_t name_length, int64_t value_length, int64_t keep_dropped) {
  if (body_size != 0) {
    out << YAML::Key << "body_size_limit" << YAML::Value << FormatByteSize(body_size);
  }
  EmitLimit(out, "sample_limit", sample);
  EmitLimit(out, "target_limit", target);
  EmitLimit(out, "label_limit", label);
  EmitLimit(out, "label_name_length_limit", name_length);
  EmitLimit(out, "label_value_length_limit", value_length);
  EmitLimit(out, "keep_dropped_targets", keep_dropped);
}

void EmitGlobal(YAML::Emitter& out, const GlobalConfig& g) {
  out << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "scrape_interval" << YAML::Value << FormatDuration(g.scrape_interval_ms);
  out << YAML::Key << "scrape_timeout" << YAML::Value << FormatDuration(g.scrape_timeout_ms);
  out << YAML::Key << "evaluation_interval" << YAML::Value
      << FormatDuration(g.evaluation_interval_ms);
  EmitLabels(out, "external_labels", g.external_labels);
  if (!g.query_log_file.empty()) out << YAML::Key << "query_log_file" << YAML::Value << g.query_log_file;
  EmitLimits(out, g.body_size_limit, g.sample_limit, g.target_limit, g.label_limit,
             g.label_name_length_limit, g.label_value_length_limit, g.keep_dropped_targets);
  out << YAML::EndMap;
}

void EmitScrape(YAML::Emitter& out, const ScrapeConfig& s) {
  out << YAML::BeginMap;
  out << YAML::Key << "job_name" << YAML::Value << s.job_name;
  out << YAML::Key << "honor_labels" << YAML::Value << s.honor_labels;
  out << YAML::Key << "honor_timestamps" << YAML::Value << s.honor_timestamps;
  out << YAML::Key << "track_timestamps_staleness" << YAML::Value << s.track_timestamps_staleness;
  if (!s.params.empty()) {
    out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : s.params) out << YAML::Key << k << YAML::Value << v;
    out << YAML::EndMap;
  }
  out << YAML::Key << "scrape_interval" << YAML::Value << FormatDuration(s.scrape_interval_ms);
  out << YAML::Key << "scrape_timeout" << YAML::Value << FormatDuration(s.scrape_timeout_ms);
  out << YAML::Key << "metrics_path" << YAML::Value << s.metrics_path;
  out << YAML::Key << "scheme" << YAML::Value << s.scheme;
  EmitLimits(out, s.body_size_limit, s.sample_limit, s.target_limit, s.label_limit,
             s.label_name_length_limit, s.label_value_length_limit, s.keep_dropped_targets);
  EmitHttp(out, s.http);
  EmitRelabels(out, "relabel_configs", s.relabel_configs);
  EmitRelabels(out, "metric_relabel_configs", s.metric_relabel_configs);
  EmitDiscovery(out, s.static_configs, s.file_sd_configs, s.kubernetes_sd_configs);
  out << YAML::EndMap;
}

void EmitRemoteWrite(YAML::Emitter& out, const std::vector<RemoteWriteConfig>& rws) {
  if (rws.empty()) return;
  out << YAML::Key << "remote_write" << YAML::Value << YAML::BeginSeq;
  for (const RemoteWriteConfig& r : rws) {
    out << YAML::BeginMap << YAML::Key << "url" << YAML::Value << r.url;
    if (!r.name.empty()) out << YAML::Key << "name" << YAML::Value << r.name;
    out << YAML::Key << "remote_timeout" << YAML::Value << FormatDuration(r.remote_timeout_ms);
    EmitRelabels(out, "write_relabel_configs", r.write_relabel_configs);
    EmitHttp(out, r.http);
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

// proxy_connect_header: every non-empty value of every header becomes <secret>.
bool RedactHeaderValues(YAML::Node headers) {
  bool changed = false;
  for (auto kv : headers) {
    if (!kv.second.IsSequence()) continue;
    for (size_t i = 0; i < kv.second.size(); ++i) {
      YAML::Node v = kv.second[i];
      if (!v.IsScalar() || v.Scalar().empty() || v.Scalar() == "<secret>") continue;
      kv.second[i] = "<secret>";
      changed = true;
    }
  }
  return changed;
}

// Replaces secret values under `node` in place; true when it replaced any.
bool RedactNode(YAML::Node node) {
  bool changed = false;
  if (node.IsSequence()) {
    for (auto item : node) changed = RedactNode(item) || changed;
  } else if (node.IsMap()) {
    for (auto kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
      YAML::Node value = kv.second;
      const bool secret = key == "password" || key == "credentials" || key == "bearer_token" ||
                          key == "client_secret";
      if (secret && value.IsScalar() && !value.Scalar().empty() && value.Scalar() != "<secret>") {
        node[kv.first] = "<secret>";
        changed = true;
      } else if (key == "proxy_connect_header" && value.IsMap()) {
        changed = RedactHeaderValues(value) || changed;
      } else if (key == "proxy_url" && value.IsScalar() &&
                 RedactUrl(value.Scalar()) != value.Scalar()) {
        node[kv.first] = RedactUrl(value.Scalar());
        changed = true;
      } else {
        changed = RedactNode(value) || changed;
      }
    }
  }
  return changed;
}

}  // namespace

std::string RedactConfigText(const std::string& yaml) {
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!RedactNode(root)) return yaml;
    YAML::Emitter out;
    out << root;
    return std::string(out.c_str()) + "\n";
  } catch (const YAML::Exception&) {
    return yaml;  // loaded configs parse; nothing to hide in text that does not
  }
}

std::string ConfigToYaml(const Config& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  EmitGlobal(out, config.global);
  if (!config.rule_files.empty()) {
    out << YAML::Key << "rule_files" << YAML::Value << config.rule_files;
  }
  if (!config.scrape_config_files.empty()) {
    out << YAML::Key << "scrape_config_files" << YAML::Value << config.scrape_config_files;
  }
  // As Prometheus, the jobs of scrape_config_files are not shown: only their globs.
  const bool main_jobs = std::any_of(config.scrape_configs.begin(), config.scrape_configs.end(),
                                     [](const ScrapeConfig& s) { return s.source_file.empty(); });
  if (main_jobs) {
    out << YAML::Key << "scrape_configs" << YAML::Value << YAML::BeginSeq;
    for (const ScrapeConfig& s : config.scrape_configs) {
      if (s.source_file.empty()) EmitScrape(out, s);
    }
    out << YAML::EndSeq;
  }
  EmitRemoteWrite(out, config.remote_write);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace vigil::config
