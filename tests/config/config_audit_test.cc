// The configuration audit (issue 22): every field of Prometheus 2.48's full
// example configuration (config/testdata/conf.good.yml of v2.48.0, stored in
// tests/config/testdata/prometheus-2.48/) either works in Vigil or is refused
// with a clear error, and kAudit below says which. The walk loads the file;
// when the loader refuses a field, it records the field and the error, removes
// the field and loads again, until the rest loads. Then:
//  - every field of conf.good.yml has a verdict in kAudit, and the verdict is
//    what the loader did (works: accepted; refused: refused with that error);
//  - every field the loader accepts (AcceptedConfigFields(), including fields
//    conf.good.yml does not use) has a verdict, so a field added to the loader
//    without a verdict here fails this test.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "config/config.h"

namespace vigil::config {
namespace {

namespace fs = std::filesystem;

enum class Kind {
  kWorks,    // accepted and acted on as in Prometheus 2.48
  kPending,  // accepted and parsed; the feature is being built (see the note)
  kRefused,  // refused; `note` is (part of) the loader's error
};

struct Verdict {
  const char* section;  // as the loader's errors name it
  const char* field;
  Kind kind;
  const char* note;
};

constexpr const char* kRemoteWrite = "remote/write_queue.h";
constexpr const char* kRemoteRead = "remote/read_client.h";

// The sections that embed Prometheus's HTTP client settings.
const std::vector<std::string> kHttpSections = {"scrape config", "alertmanager config",
                                                "remote write config", "remote read config",
                                                "kubernetes_sd config"};

std::vector<Verdict> HttpVerdicts(const char* section) {
  return {
      {section, "basic_auth", Kind::kWorks, ""},
      {section, "authorization", Kind::kWorks, ""},
      {section, "bearer_token", Kind::kWorks, "becomes authorization credentials"},
      {section, "bearer_token_file", Kind::kWorks, "becomes authorization credentials_file"},
      {section, "tls_config", Kind::kWorks, ""},
      {section, "follow_redirects", Kind::kWorks, ""},
      {section, "enable_http2", Kind::kWorks, "accepted; Vigil's client speaks HTTP/1.1"},
      {section, "oauth2", Kind::kWorks, "client credentials flow"},
      {section, "proxy_url", Kind::kWorks, "HTTP proxy: absolute URIs, CONNECT for https"},
      {section, "no_proxy", Kind::kWorks, "2.43; Go's httpproxy matching (proxy_config_test)"},
      {section, "proxy_from_environment", Kind::kWorks, "2.43; HTTP(S)_PROXY, NO_PROXY"},
      {section, "proxy_connect_header", Kind::kWorks, "2.43; on the CONNECT of https tunnels"},
  };
}

std::vector<Verdict> Audit() {
  std::vector<Verdict> v = {
      {"config", "global", Kind::kWorks, ""},
      {"config", "rule_files", Kind::kWorks, ""},
      {"config", "scrape_config_files", Kind::kWorks, "2.43"},
      {"config", "scrape_configs", Kind::kWorks, ""},
      {"config", "alerting", Kind::kWorks, ""},
      {"config", "remote_write", Kind::kWorks, kRemoteWrite},
      {"config", "remote_read", Kind::kWorks, kRemoteRead},
      {"config", "storage", Kind::kWorks, ""},
      {"config", "tracing", Kind::kRefused, "tracing is not supported by Vigil"},

      {"global config", "scrape_interval", Kind::kWorks, ""},
      {"global config", "scrape_timeout", Kind::kWorks, ""},
      {"global config", "evaluation_interval", Kind::kWorks, ""},
      {"global config", "external_labels", Kind::kWorks, ""},
      {"global config", "query_log_file", Kind::kWorks, ""},
      {"global config", "body_size_limit", Kind::kWorks, "2.45: default of every job"},
      {"global config", "sample_limit", Kind::kWorks, "2.45: default of every job"},
      {"global config", "label_limit", Kind::kWorks, "2.45: default of every job"},
      {"global config", "label_name_length_limit", Kind::kWorks, "2.45: default of every job"},
      {"global config", "label_value_length_limit", Kind::kWorks, "2.45: default of every job"},
      {"global config", "target_limit", Kind::kWorks, "2.45: default of every job"},
      {"global config", "keep_dropped_targets", Kind::kWorks, "2.47: default of every job"},

      {"scrape config file", "scrape_configs", Kind::kWorks, "2.43"},

      {"scrape config", "job_name", Kind::kWorks, ""},
      {"scrape config", "scrape_interval", Kind::kWorks, ""},
      {"scrape config", "scrape_timeout", Kind::kWorks, ""},
      {"scrape config", "metrics_path", Kind::kWorks, ""},
      {"scrape config", "scheme", Kind::kWorks, ""},
      {"scrape config", "params", Kind::kWorks, ""},
      {"scrape config", "honor_labels", Kind::kWorks, ""},
      {"scrape config", "honor_timestamps", Kind::kWorks, ""},
      {"scrape config", "track_timestamps_staleness", Kind::kWorks,
       "2.48: staleness markers for samples with their own timestamp"},
      {"scrape config", "sample_limit", Kind::kWorks, ""},
      {"scrape config", "label_limit", Kind::kWorks, ""},
      {"scrape config", "label_name_length_limit", Kind::kWorks, ""},
      {"scrape config", "label_value_length_limit", Kind::kWorks, ""},
      {"scrape config", "target_limit", Kind::kWorks, ""},
      {"scrape config", "body_size_limit", Kind::kWorks, ""},
      {"scrape config", "keep_dropped_targets", Kind::kWorks, "2.47"},
      {"scrape config", "relabel_configs", Kind::kWorks, ""},
      {"scrape config", "metric_relabel_configs", Kind::kWorks, ""},
      {"scrape config", "static_configs", Kind::kWorks, ""},
      {"scrape config", "file_sd_configs", Kind::kWorks, ""},
      {"scrape config", "kubernetes_sd_configs", Kind::kWorks, ""},

      {"static config", "targets", Kind::kWorks, ""},
      {"static config", "labels", Kind::kWorks, ""},
      {"file_sd config", "files", Kind::kWorks, ""},
      {"file_sd config", "refresh_interval", Kind::kWorks, ""},

      {"kubernetes_sd config", "role", Kind::kWorks, ""},
      {"kubernetes_sd config", "api_server", Kind::kWorks, ""},
      {"kubernetes_sd config", "kubeconfig_file", Kind::kRefused,
       "kubeconfig_file is not supported by Vigil; set api_server"},
      {"kubernetes_sd config", "namespaces", Kind::kWorks, ""},
      {"kubernetes_sd config", "selectors", Kind::kWorks, ""},
      {"kubernetes_sd config", "attach_metadata", Kind::kWorks, ""},
      {"namespaces", "own_namespace", Kind::kWorks, ""},
      {"namespaces", "names", Kind::kWorks, ""},
      {"selector", "role", Kind::kWorks, ""},
      {"selector", "label", Kind::kWorks, ""},
      {"selector", "field", Kind::kWorks, ""},
      {"attach_metadata", "node", Kind::kWorks, ""},

      {"basic_auth", "username", Kind::kWorks, ""},
      {"basic_auth", "password", Kind::kWorks, ""},
      {"basic_auth", "password_file", Kind::kWorks, ""},
      {"authorization", "type", Kind::kWorks, ""},
      {"authorization", "credentials", Kind::kWorks, ""},
      {"authorization", "credentials_file", Kind::kWorks, ""},
      {"tls_config", "ca_file", Kind::kWorks, ""},
      {"tls_config", "cert_file", Kind::kWorks, ""},
      {"tls_config", "key_file", Kind::kWorks, ""},
      {"tls_config", "ca", Kind::kWorks, ""},
      {"tls_config", "cert", Kind::kWorks, ""},
      {"tls_config", "key", Kind::kWorks, ""},
      {"tls_config", "server_name", Kind::kWorks, ""},
      {"tls_config", "insecure_skip_verify", Kind::kWorks, ""},
      {"tls_config", "min_version", Kind::kWorks, ""},

      {"relabel config", "source_labels", Kind::kWorks, ""},
      {"relabel config", "separator", Kind::kWorks, ""},
      {"relabel config", "regex", Kind::kWorks, ""},
      {"relabel config", "modulus", Kind::kWorks, ""},
      {"relabel config", "target_label", Kind::kWorks, ""},
      {"relabel config", "replacement", Kind::kWorks, ""},
      {"relabel config", "action", Kind::kWorks, ""},

      {"alerting config", "alert_relabel_configs", Kind::kWorks, ""},
      {"alerting config", "alertmanagers", Kind::kWorks, ""},
      {"alertmanager config", "scheme", Kind::kWorks, ""},
      {"alertmanager config", "path_prefix", Kind::kWorks, ""},
      {"alertmanager config", "timeout", Kind::kWorks, ""},
      {"alertmanager config", "api_version", Kind::kWorks, ""},
      {"alertmanager config", "relabel_configs", Kind::kWorks, ""},
      {"alertmanager config", "static_configs", Kind::kWorks, ""},
      {"alertmanager config", "file_sd_configs", Kind::kWorks, ""},
      {"alertmanager config", "kubernetes_sd_configs", Kind::kWorks, ""},

      {"remote write config", "url", Kind::kWorks, kRemoteWrite},
      {"remote write config", "name", Kind::kWorks, kRemoteWrite},
      {"remote write config", "remote_timeout", Kind::kWorks, kRemoteWrite},
      {"remote write config", "headers", Kind::kWorks, kRemoteWrite},
      {"remote write config", "write_relabel_configs", Kind::kWorks, kRemoteWrite},
      {"remote write config", "send_exemplars", Kind::kPending,
       "accepted; exemplars are not sent, a warning at queue start"},
      {"remote write config", "queue_config", Kind::kWorks, kRemoteWrite},
      {"remote write config", "metadata_config", Kind::kPending,
       "accepted; metadata is not sent, a warning at queue start"},
      {"remote write config", "sigv4", Kind::kRefused, "sigv4 is not supported by Vigil"},
      {"remote write config", "azuread", Kind::kRefused, "azuread is not supported by Vigil"},
      {"queue config", "capacity", Kind::kWorks, kRemoteWrite},
      {"queue config", "max_shards", Kind::kWorks, kRemoteWrite},
      {"queue config", "min_shards", Kind::kWorks, kRemoteWrite},
      {"queue config", "max_samples_per_send", Kind::kWorks, kRemoteWrite},
      {"queue config", "batch_send_deadline", Kind::kWorks, kRemoteWrite},
      {"queue config", "min_backoff", Kind::kWorks, kRemoteWrite},
      {"queue config", "max_backoff", Kind::kWorks, kRemoteWrite},
      {"queue config", "retry_on_http_429", Kind::kWorks, kRemoteWrite},
      {"metadata config", "send", Kind::kPending, "metadata is not sent yet (README)"},
      {"metadata config", "send_interval", Kind::kPending, "metadata is not sent yet (README)"},
      {"metadata config", "max_samples_per_send", Kind::kPending,
       "metadata is not sent yet (README)"},

      {"remote read config", "url", Kind::kWorks, kRemoteRead},
      {"remote read config", "name", Kind::kWorks, kRemoteRead},
      {"remote read config", "remote_timeout", Kind::kWorks, kRemoteRead},
      {"remote read config", "headers", Kind::kWorks, kRemoteRead},
      {"remote read config", "read_recent", Kind::kWorks, kRemoteRead},
      {"remote read config", "required_matchers", Kind::kWorks, kRemoteRead},
      {"remote read config", "filter_external_labels", Kind::kWorks, kRemoteRead},

      {"oauth2", "client_id", Kind::kWorks, ""},
      {"oauth2", "client_secret", Kind::kWorks, ""},
      {"oauth2", "client_secret_file", Kind::kWorks, ""},
      {"oauth2", "scopes", Kind::kWorks, ""},
      {"oauth2", "token_url", Kind::kWorks, ""},
      {"oauth2", "endpoint_params", Kind::kWorks, ""},
      {"oauth2", "tls_config", Kind::kWorks, ""},
      {"oauth2", "proxy_url", Kind::kWorks, ""},
      {"oauth2", "no_proxy", Kind::kWorks, "2.43"},
      {"oauth2", "proxy_from_environment", Kind::kWorks, "2.43"},
      {"oauth2", "proxy_connect_header", Kind::kWorks, "2.43"},

      {"storage config", "tsdb", Kind::kWorks, ""},
      {"storage config", "exemplars", Kind::kWorks, ""},
      {"tsdb config", "out_of_order_time_window", Kind::kWorks, ""},
      {"exemplars config", "max_exemplars", Kind::kWorks, ""},
  };
  for (const std::string& section : kHttpSections) {
    for (const Verdict& h : HttpVerdicts(section.c_str())) v.push_back(h);
  }
  return v;
}

// Sections of conf.good.yml whose keys are user data (label names, header
// names, URL parameters), not fields.
bool IsFreeMap(const std::string& path) {
  static const std::regex kFree(
      R"((^|\.)(external_labels|labels|params|headers|required_matchers|endpoint_params)$)");
  return std::regex_search(path, kFree);
}

// The loader section a conf.good.yml mapping at `path` ("" the root,
// "scrape_configs[]", "scrape_configs[].tls_config", ...) is checked as.
std::string SectionOf(const std::string& path) {
  if (path.empty()) return "config";
  static const std::vector<std::pair<std::regex, std::string>> kSections = {
      {std::regex(R"(^global$)"), "global config"},
      {std::regex(R"(^scrape_configs\[\]$)"), "scrape config"},
      {std::regex(R"(\.static_configs\[\]$)"), "static config"},
      {std::regex(R"(\.file_sd_configs\[\]$)"), "file_sd config"},
      {std::regex(R"(\.kubernetes_sd_configs\[\]$)"), "kubernetes_sd config"},
      {std::regex(R"(\.kubernetes_sd_configs\[\]\.namespaces$)"), "namespaces"},
      {std::regex(R"(\.kubernetes_sd_configs\[\]\.selectors\[\]$)"), "selector"},
      {std::regex(R"(\.kubernetes_sd_configs\[\]\.attach_metadata$)"), "attach_metadata"},
      {std::regex(R"(\.tls_config$)"), "tls_config"},
      {std::regex(R"(\.basic_auth$)"), "basic_auth"},
      {std::regex(R"(\.authorization$)"), "authorization"},
      {std::regex(R"(\.oauth2$)"), "oauth2"},
      {std::regex(R"(relabel_configs\[\]$)"), "relabel config"},
      {std::regex(R"(^alerting$)"), "alerting config"},
      {std::regex(R"(^alerting\.alertmanagers\[\]$)"), "alertmanager config"},
      {std::regex(R"(^remote_write\[\]$)"), "remote write config"},
      {std::regex(R"(^remote_write\[\]\.queue_config$)"), "queue config"},
      {std::regex(R"(^remote_write\[\]\.metadata_config$)"), "metadata config"},
      {std::regex(R"(^remote_read\[\]$)"), "remote read config"},
      {std::regex(R"(^storage$)"), "storage config"},
      {std::regex(R"(^storage\.tsdb$)"), "tsdb config"},
      {std::regex(R"(^storage\.exemplars$)"), "exemplars config"},
  };
  for (const auto& [re, section] : kSections) {
    if (std::regex_search(path, re)) return section;
  }
  return "unknown section at " + path;
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

struct Field {
  std::string path;  // "scrape_configs[].tls_config.ca_file"
  std::string section;
  std::string key;
};

// Every field of `node` (below `path`), skipping user-data maps.
void CollectFields(const YAML::Node& node, const std::string& path, std::vector<Field>& out) {
  if (node.IsSequence()) {
    for (const auto& item : node) CollectFields(item, path + "[]", out);
    return;
  }
  if (!node.IsMap() || IsFreeMap(path)) return;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    out.push_back({Join(path, key), SectionOf(path), key});
    CollectFields(kv.second, Join(path, key), out);
  }
}

// Finds the field the error at (line, column) (1-based) is about: a key at
// that position, or a key whose value starts there; when several match (a
// value mapping starts with its first key), the one the message names.
bool FindAndRemove(YAML::Node node, const std::string& path, int line, int column,
                   const std::string& message, Field& found) {
  if (node.IsSequence()) {
    for (auto item : node) {
      if (FindAndRemove(item, path + "[]", line, column, message, found)) return true;
    }
    return false;
  }
  if (!node.IsMap()) return false;
  for (auto kv : node) {
    const std::string key = kv.first.Scalar();
    const auto at = [&](const YAML::Node& n) {
      return n.Mark().line + 1 == line && n.Mark().column + 1 == column;
    };
    const bool named = std::regex_search(message, std::regex("(^|[ \"])" + key + "([ \":]|$)"));
    if ((at(kv.first) || at(kv.second)) && named) {
      found = {Join(path, key), SectionOf(path), key};
      node.remove(key);
      return true;
    }
    if (FindAndRemove(kv.second, Join(path, key), line, column, message, found)) return true;
  }
  return false;
}

struct Refusal {
  Field field;
  std::string error;
};

class ConfigAudit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path file =
        fs::path(VIGIL_SOURCE_DIR) / "tests/config/testdata/prometheus-2.48/conf.good.yml";
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    original_ = new YAML::Node(YAML::Load(text.str()));
    std::string current = text.str();
    refusals_ = new std::vector<Refusal>;
    // Each round removes one refused field; conf.good.yml has a few hundred fields.
    for (int round = 0; round < 500; ++round) {
      auto c = LoadConfigString(current, file.string());
      if (c.ok()) {
        accepted_ = new YAML::Node(YAML::Load(current));
        LoadSectionsTheExampleLacks();
        return;
      }
      std::smatch m;
      const std::string error = c.status().message();
      if (!std::regex_search(error, m, std::regex(R"(line (\d+), column (\d+): (.*))"))) {
        walk_error_ = "error without a position: " + error;
        return;
      }
      YAML::Node doc = YAML::Load(current);
      Field field;
      if (!FindAndRemove(doc, "", std::stoi(m[1]), std::stoi(m[2]), m[3], field)) {
        walk_error_ = "error not about a field: " + error;
        return;
      }
      refusals_->push_back({field, error});
      YAML::Emitter out;
      out << doc;
      current = std::string(out.c_str()) + "\n";
    }
    walk_error_ = "too many refusals";
  }

  // Sections conf.good.yml leaves out, so that AcceptedConfigFields() has
  // seen every section the loader has.
  static void LoadSectionsTheExampleLacks() {
    const fs::path dir = fs::temp_directory_path() / ("vigil-audit-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "jobs.yml") << "scrape_configs:\n  - job_name: from_file\n";
    auto c = LoadConfigString(
        "scrape_config_files: [jobs.yml]\n"
        "scrape_configs:\n"
        "  - job_name: k\n"
        "    kubernetes_sd_configs:\n"
        "      - role: pod\n"
        "        selectors: [{role: pod, label: a=b}]\n"
        "        attach_metadata: {node: true}\n"
        "remote_write:\n"
        "  - url: http://127.0.0.1:1/write\n"
        "    queue_config: {capacity: 10}\n"
        "    metadata_config: {send: false}\n"
        "storage:\n  exemplars: {max_exemplars: 10}\n",
        (dir / "p.yml").string());
    fs::remove_all(dir);
    if (!c.ok()) walk_error_ = "sections the example lacks: " + c.status().ToString();
  }

  static YAML::Node* original_;
  static YAML::Node* accepted_;
  static std::vector<Refusal>* refusals_;
  static std::string walk_error_;
};

YAML::Node* ConfigAudit::original_ = nullptr;
YAML::Node* ConfigAudit::accepted_ = nullptr;
std::vector<Refusal>* ConfigAudit::refusals_ = nullptr;
std::string ConfigAudit::walk_error_;

const Verdict* Lookup(const std::string& section, const std::string& key) {
  static const std::vector<Verdict> audit = Audit();
  for (const Verdict& v : audit) {
    if (section == v.section && key == v.field) return &v;
  }
  return nullptr;
}

TEST_F(ConfigAudit, WalkEndsWithTheRestOfTheExampleLoading) {
  ASSERT_EQ(walk_error_, "");
  ASSERT_NE(accepted_, nullptr);
}

TEST_F(ConfigAudit, EveryRefusedFieldHasARefusedVerdictWithItsError) {
  ASSERT_EQ(walk_error_, "");
  for (const Refusal& r : *refusals_) {
    const Verdict* v = Lookup(r.field.section, r.field.key);
    if (v == nullptr) {
      // Fields Vigil does not know at all (consul_sd_configs, ...) are refused
      // by the strict decoder, which is their verdict.
      EXPECT_NE(r.error.find("field " + r.field.key + " not found in " + r.field.section),
                std::string::npos)
          << r.field.path << " refused without a verdict: " << r.error;
      continue;
    }
    EXPECT_EQ(v->kind, Kind::kRefused) << r.field.path << " refused: " << r.error;
    EXPECT_NE(r.error.find(v->note), std::string::npos) << r.field.path << ": " << r.error;
  }
}

TEST_F(ConfigAudit, EveryAcceptedFieldOfTheExampleHasAnAcceptingVerdict) {
  ASSERT_NE(accepted_, nullptr) << walk_error_;
  std::vector<Field> fields;
  CollectFields(*accepted_, "", fields);
  EXPECT_GT(fields.size(), 100u);
  for (const Field& f : fields) {
    const Verdict* v = Lookup(f.section, f.key);
    ASSERT_NE(v, nullptr) << f.path << " (" << f.section << ") is accepted without a verdict";
    EXPECT_NE(v->kind, Kind::kRefused) << f.path << " is accepted but its verdict is refused";
  }
}

TEST_F(ConfigAudit, EveryFieldTheLoaderAcceptsHasAVerdict) {
  ASSERT_NE(accepted_, nullptr) << walk_error_;
  const auto accepted = AcceptedConfigFields();
  for (const auto& [section, keys] : accepted) {
    for (const std::string& key : keys) {
      EXPECT_NE(Lookup(section, key), nullptr)
          << "the loader accepts " << key << " in " << section
          << " without a verdict in tests/config/config_audit_test.cc";
    }
  }
  // And the table names no section or field the loader does not have.
  for (const Verdict& v : Audit()) {
    if (v.kind == Kind::kRefused && std::string(v.note).find("not found") != std::string::npos) {
      continue;
    }
    auto it = accepted.find(v.section);
    ASSERT_NE(it, accepted.end()) << "no loader section " << v.section;
    EXPECT_NE(std::find(it->second.begin(), it->second.end(), v.field), it->second.end())
        << v.section << "." << v.field << " has a verdict but the loader does not accept it";
  }
}

// Fields of Prometheus 2.48's scrape config (config/config.go ScrapeConfig and
// the inlined HTTPClientConfig of prometheus/common v0.44.0) that
// conf.good.yml does not use: each has a verdict or is refused by name.
TEST_F(ConfigAudit, Prometheus248ScrapeFieldsMissingFromTheExample_AreRefusedByName) {
  for (const char* field :
       {"track_timestamps_staleness", "scrape_classic_histograms", "native_histogram_bucket_limit",
        "no_proxy", "proxy_from_environment", "proxy_connect_header", "enable_http2",
        "follow_redirects", "bearer_token", "bearer_token_file"}) {
    if (Lookup("scrape config", field) != nullptr) continue;
    auto c = LoadConfigString(
        std::string("scrape_configs:\n  - job_name: a\n    ") + field + ": true\n", "/etc/p.yml");
    ASSERT_FALSE(c.ok()) << field << " is accepted without a verdict";
    EXPECT_NE(c.status().message().find("field " + std::string(field) + " not found"),
              std::string::npos)
        << c.status().message();
  }
}

// A readable record of the walk, for the README's migration notes.
TEST_F(ConfigAudit, PrintsTheVerdictOfEveryExampleField) {
  ASSERT_NE(original_, nullptr);
  std::vector<Field> fields;
  CollectFields(*original_, "", fields);
  std::set<std::string> refused_paths;
  for (const Refusal& r : *refusals_) refused_paths.insert(r.field.path);
  std::set<std::string> printed;
  for (const Field& f : fields) {
    bool under_refused = false;
    for (const std::string& p : refused_paths) {
      if (f.path.starts_with(p + ".") || f.path.starts_with(p + "[]")) under_refused = true;
    }
    if (under_refused || !printed.insert(f.path).second) continue;
    const Verdict* v = Lookup(f.section, f.key);
    const char* kind = refused_paths.count(f.path) ? "refused"
                       : v == nullptr              ? "?"
                       : v->kind == Kind::kWorks   ? "works"
                       : v->kind == Kind::kPending ? "pending"
                                                   : "refused";
    std::cout << kind << "\t" << f.path << (v && *v->note ? "\t" + std::string(v->note) : "")
              << "\n";
  }
}

}  // namespace
}  // namespace vigil::config
