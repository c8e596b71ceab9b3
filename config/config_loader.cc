// Decodes prometheus.yml into the typed Config. yaml-cpp throws; the
// exceptions (ours and the library's) stop at LoadConfigString.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "base/duration.h"
#include "base/file_glob.h"
#include "base/logger.h"
#include "base/quote.h"
#include "config/config.h"
#include "config/http_client.h"
#include "config/proxy_selector.h"
#include "config/yaml_labels.h"

namespace vigil::config {
namespace {

// Thrown inside the loader only; carries "line L, column C: problem", or a
// whole message (`complete`) that names its own file.
struct ConfigError {
  std::string message;
  bool complete = false;
};

using FieldList = std::initializer_list<std::string_view>;

const std::vector<std::string_view> kHttpFields = {
    "basic_auth",           "authorization",    "bearer_token", "bearer_token_file",
    "tls_config",           "proxy_url",        "no_proxy",     "proxy_from_environment",
    "proxy_connect_header", "follow_redirects", "enable_http2", "oauth2"};

std::string Where(const YAML::Mark& m) {
  if (m.is_null()) return "";
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1) + ": ";
}

[[noreturn]] void FailAt(const YAML::Mark& m, const std::string& problem) {
  throw ConfigError{Where(m) + problem};
}

[[noreturn]] void Fail(const YAML::Node& n, const std::string& problem) {
  // A missing key has no position (its Mark() would throw).
  FailAt(n.IsDefined() ? n.Mark() : YAML::Mark::null_mark(), problem);
}

// A scalar as Go's yaml package shows it in "cannot unmarshal" errors: in
// backquotes, not %q, and cut to 7 bytes and "..." when longer than 10.
std::string YamlValue(std::string_view s) {
  return "`" + (s.size() > 10 ? std::string(s.substr(0, 7)) + "..." : std::string(s)) + "`";
}

bool Present(const YAML::Node& map, std::string_view key) {
  const YAML::Node n = map[std::string(key)];
  return n.IsDefined() && !n.IsNull();
}

// The key sets CheckFields has been called with, for AcceptedConfigFields().
class FieldRegistry {
 public:
  static FieldRegistry& Get() {
    static FieldRegistry registry;
    return registry;
  }

  void Record(const std::string& type, FieldList allowed,
              const std::vector<std::string_view>& more) {
    std::lock_guard lock(mu_);
    auto& keys = sections_[type];
    keys.insert(allowed.begin(), allowed.end());
    keys.insert(more.begin(), more.end());
  }

  std::map<std::string, std::vector<std::string>> Snapshot() const {
    std::lock_guard lock(mu_);
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& [type, keys] : sections_) out[type].assign(keys.begin(), keys.end());
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> sections_;
};

// Rejects keys outside `allowed` and duplicated keys, as Go's strict yaml.
void CheckFields(const YAML::Node& map, const std::string& type, FieldList allowed,
                 const std::vector<std::string_view>& more = {}) {
  FieldRegistry::Get().Record(type, allowed, more);
  if (!map.IsMap()) Fail(map, std::string("cannot unmarshal ") + YamlTag(map) + " into " + type);
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    const auto known = [&](const auto& l) {
      return std::find(l.begin(), l.end(), key) != l.end();
    };
    if (!known(allowed) && !known(more)) Fail(kv.first, "field " + key + " not found in " + type);
    if (!seen.insert(key).second) {
      Fail(kv.first, "mapping key " + GoQuote(key) + " already defined");
    }
  }
}

std::string Str(const YAML::Node& n) {
  if (!n.IsScalar()) Fail(n, std::string("cannot unmarshal ") + YamlTag(n) + " into string");
  return n.Scalar();
}

bool Bool(const YAML::Node& n) {
  const std::string s = Str(n);
  static const std::set<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
  static const std::set<std::string> kFalse = {"false", "False", "FALSE", "no", "No", "off", "Off"};
  if (kTrue.count(s)) return true;
  if (kFalse.count(s)) return false;
  Fail(n, "cannot unmarshal !!str " + YamlValue(s) + " into bool");
}

int64_t Int(const YAML::Node& n) {
  const std::string s = Str(n);
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) {
    Fail(n, "cannot unmarshal !!str " + YamlValue(s) + " into a non-negative integer");
  }
  return v;
}

int64_t Duration(const YAML::Node& n) {
  auto d = ParseDuration(Str(n));
  if (!d.ok()) Fail(n, d.status().message());
  return *d;
}

int64_t Size(const YAML::Node& n) {
  auto s = ParseByteSize(Str(n));
  if (!s.ok()) Fail(n, s.status().message());
  return *s;
}

std::vector<std::string> StrList(const YAML::Node& n) {
  if (!n.IsSequence()) Fail(n, std::string("cannot unmarshal ") + YamlTag(n) + " into []string");
  std::vector<std::string> out;
  for (const auto& item : n) out.push_back(Str(item));
  return out;
}

std::map<std::string, std::string> StrMap(const YAML::Node& n) {
  if (!n.IsMap()) Fail(n, std::string("cannot unmarshal ") + YamlTag(n) + " into map");
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!out.emplace(Str(kv.first), Str(kv.second)).second) {
      Fail(kv.first, "mapping key " + GoQuote(kv.first.Scalar()) + " already defined");
    }
  }
  return out;
}

// Calls fn(node) when `key` is present and not null.
template <typename Fn>
void With(const YAML::Node& map, std::string_view key, Fn&& fn) {
  if (Present(map, key)) fn(map[std::string(key)]);
}

template <typename Fn>
void ForEach(const YAML::Node& map, std::string_view key, Fn&& fn) {
  With(map, key, [&](const YAML::Node& seq) {
    if (!seq.IsSequence()) Fail(seq, std::string("cannot unmarshal ") + YamlTag(seq) + " into list");
    for (const auto& item : seq) fn(item);
  });
}

bool IsHttpUrl(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.starts_with(scheme)) {
      const std::string_view rest = url.substr(scheme.size());
      return !rest.empty() && rest[0] != '/';
    }
  }
  return false;
}

void CheckUrl(const YAML::Node& n, const std::string& url) {
  if (!IsHttpUrl(url)) Fail(n, GoQuote(url) + " is not a valid URL: need http:// or https:// and a host");
}

Labels LabelMap(const YAML::Node& n) {
  std::vector<Label> labels;
  YAML::Mark at;
  if (Status st = DecodeLabelMap(n, &labels, &at); !st.ok()) FailAt(at, st.message());
  for (const Label& l : labels) {
    if (!IsValidLabelName(l.name)) Fail(n, GoQuote(l.name) + " is not a valid label name");
  }
  return Labels(std::move(labels));
}

// yaml-cpp shares an aliased node instead of copying it, but the decoder
// visits every alias: a "billion laughs" document (an anchored list of
// aliases of an anchored list ...) would keep it busy for hours and build
// billions of targets. As Go's yaml.v2, refuse documents whose alias
// expansion is far larger than their text. Counts down `budget` per node
// visited and stops as soon as it is spent, or when the expansion nests
// deeper than yaml-cpp lets text nest (2000): only aliases get there, and an
// alias inside its own anchor (`a: &a [*a]`) makes a cycle.
bool ExpandsWithin(const YAML::Node& n, int64_t& budget, int depth = 0) {
  if (--budget < 0 || depth > 2000) return false;
  if (n.IsSequence()) {
    for (const auto& item : n) {
      if (!ExpandsWithin(item, budget, depth + 1)) return false;
    }
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      if (!ExpandsWithin(kv.first, budget, depth + 1) ||
          !ExpandsWithin(kv.second, budget, depth + 1)) {
        return false;
      }
    }
  }
  return true;
}

void CheckAliasExpansion(const YAML::Node& root, size_t text_bytes) {
  int64_t budget = 100'000 + 10 * static_cast<int64_t>(text_bytes);
  if (!ExpandsWithin(root, budget)) Fail(root, "document contains excessive aliasing");
}

class ConfigDecoder {
 public:
  explicit ConfigDecoder(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Config Decode(const YAML::Node& root) {
    Config c;
    if (!root.IsDefined() || root.IsNull()) return c;
    CheckFields(root, "config",
                {"global", "scrape_configs", "rule_files", "alerting", "remote_write",
                 "remote_read", "storage", "tracing", "scrape_config_files"});
    With(root, "global", [&](const YAML::Node& n) { c.global = DecodeGlobal(n); });
    ForEach(root, "rule_files", [&](const YAML::Node& n) {
      c.rule_files.push_back(FilePattern(n, "invalid rule file path "));
    });
    ForEach(root, "scrape_config_files", [&](const YAML::Node& n) {
      c.scrape_config_files.push_back(FilePattern(n, "invalid scrape config file path "));
    });
    std::map<std::string, std::string> jobs;  // job name -> where it was first found
    ForEach(root, "scrape_configs", [&](const YAML::Node& n) {
      ScrapeConfig sc = DecodeScrape(n, c.global);
      if (!jobs.emplace(sc.job_name, "main config file").second) {
        Fail(n, "found multiple scrape configs with job name " + GoQuote(sc.job_name));
      }
      c.scrape_configs.push_back(std::move(sc));
    });
    for (const std::string& file : ExpandGlobs(c.scrape_config_files)) {
      DecodeScrapeConfigFile(file, c.global, jobs, c.scrape_configs);
    }
    With(root, "alerting", [&](const YAML::Node& n) { c.alerting = DecodeAlerting(n); });
    std::set<std::string> rw_names;
    ForEach(root, "remote_write", [&](const YAML::Node& n) {
      c.remote_write.push_back(DecodeRemoteWrite(n));
      const std::string& name = c.remote_write.back().name;
      if (!name.empty() && !rw_names.insert(name).second) {
        Fail(n, "found multiple remote write configs with job name " + GoQuote(name));
      }
    });
    std::set<std::string> rr_names;
    ForEach(root, "remote_read", [&](const YAML::Node& n) {
      c.remote_read.push_back(DecodeRemoteRead(n));
      const std::string& name = c.remote_read.back().name;
      if (!name.empty() && !rr_names.insert(name).second) {
        Fail(n, "found multiple remote read configs with job name " + GoQuote(name));
      }
    });
    With(root, "storage", [&](const YAML::Node& n) { c.storage = DecodeStorage(n); });
    // Prometheus exports its own traces over OTLP when tracing.endpoint is
    // set; Vigil has no tracer, so any tracing setting is refused.
    With(root, "tracing", [&](const YAML::Node& n) {
      if (!n.IsMap() || n.size() > 0) Fail(n, "tracing is not supported by Vigil");
    });
    return c;
  }

 private:
  std::string Resolve(const std::string& path) const {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    return (dir_ / path).lexically_normal().string();
  }

  // A rule_files or scrape_config_files entry: a path whose last element
  // alone may hold a `*` (Prometheus: ^[^*]*(\*[^/]*)?$).
  std::string FilePattern(const YAML::Node& n, const std::string& bad) const {
    const std::string path = Str(n);
    const size_t star = path.find('*');
    if (star != std::string::npos && path.find('/', star) != std::string::npos) {
      Fail(n, bad + GoQuote(path));
    }
    return Resolve(path);
  }

  // One file a scrape_config_files glob matched: scrape_configs only, each job
  // inheriting the main file's globals, its relative paths resolved against
  // this file's directory, its job name new. Errors name the file as
  // promtool does: `error loading scrape configs: "/abs/file.yml": ...`.
  static void DecodeScrapeConfigFile(const std::string& file, const GlobalConfig& global,
                                     std::map<std::string, std::string>& jobs,
                                     std::vector<ScrapeConfig>& out) {
    const std::filesystem::path abs = std::filesystem::absolute(file).lexically_normal();
    const std::string quoted = GoQuote(abs.string());
    const auto fail = [&](const std::string& problem) {
      throw ConfigError{"error loading scrape configs: " + quoted + ": " + problem, true};
    };
    // A glob can match a directory or a device (`/dev/*`): only regular files
    // are read, so that a pattern never blocks the load on an endless stream.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) fail("read " + file + ": not a regular file");
    std::ifstream in(file, std::ios::binary);
    if (!in) fail("open " + file + ": no such file or directory");
    std::ostringstream text;
    text << in.rdbuf();
    try {
      const YAML::Node root = YAML::Load(text.str());
      CheckAliasExpansion(root, text.str().size());
      if (!root.IsDefined() || root.IsNull()) return;
      CheckFields(root, "scrape config file", {"scrape_configs"});
      const ConfigDecoder decoder(abs.parent_path());
      ForEach(root, "scrape_configs", [&](const YAML::Node& n) {
        ScrapeConfig sc = decoder.DecodeScrape(n, global);
        const auto [first, added] = jobs.emplace(sc.job_name, quoted);
        if (!added) {
          Fail(n, "found multiple scrape configs with job name " + GoQuote(sc.job_name) +
                      ", first found in " + first->second);
        }
        sc.source_file = abs.string();
        out.push_back(std::move(sc));
      });
    } catch (const ConfigError& e) {
      if (e.complete) throw;
      fail(e.message);
    } catch (const YAML::Exception& e) {
      fail("line " + std::to_string(e.mark.line + 1) + ", column " +
           std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
  }

  GlobalConfig DecodeGlobal(const YAML::Node& n) const {
    CheckFields(n, "global config",
                {"scrape_interval", "scrape_timeout", "evaluation_interval", "external_labels",
                 "query_log_file", "body_size_limit", "sample_limit", "label_limit",
                 "label_name_length_limit", "label_value_length_limit", "target_limit",
                 "keep_dropped_targets"});
    GlobalConfig g;
    // As Prometheus, a zero duration means "not set".
    With(n, "scrape_interval", [&](const YAML::Node& v) { g.scrape_interval_ms = Duration(v); });
    if (g.scrape_interval_ms == 0) g.scrape_interval_ms = GlobalConfig().scrape_interval_ms;
    g.scrape_timeout_ms = 0;
    With(n, "scrape_timeout", [&](const YAML::Node& v) { g.scrape_timeout_ms = Duration(v); });
    if (g.scrape_timeout_ms == 0) {
      g.scrape_timeout_ms = std::min(GlobalConfig().scrape_timeout_ms, g.scrape_interval_ms);
    }
    if (g.scrape_timeout_ms > g.scrape_interval_ms) {
      Fail(Present(n, "scrape_timeout") ? n["scrape_timeout"] : n,
           "global scrape timeout greater than scrape interval");
    }
    With(n, "evaluation_interval", [&](const YAML::Node& v) { g.evaluation_interval_ms = Duration(v); });
    if (g.evaluation_interval_ms == 0) g.evaluation_interval_ms = GlobalConfig().evaluation_interval_ms;
    With(n, "external_labels", [&](const YAML::Node& v) {
      g.external_labels = LabelMap(v);
      if (g.external_labels.Has(kMetricNameLabel)) {
        Fail(v, "\"__name__\" is not a valid label name for external_labels");
      }
    });
    With(n, "query_log_file", [&](const YAML::Node& v) { g.query_log_file = Resolve(Str(v)); });
    With(n, "body_size_limit", [&](const YAML::Node& v) { g.body_size_limit = Size(v); });
    DecodeLimits(n, g.sample_limit, g.label_limit, g.label_name_length_limit,
                 g.label_value_length_limit, g.target_limit);
    With(n, "keep_dropped_targets", [&](const YAML::Node& v) { g.keep_dropped_targets = Int(v); });
    return g;
  }

  static void DecodeLimits(const YAML::Node& n, int64_t& sample, int64_t& label, int64_t& name_len,
                           int64_t& value_len, int64_t& target) {
    With(n, "sample_limit", [&](const YAML::Node& v) { sample = Int(v); });
    With(n, "label_limit", [&](const YAML::Node& v) { label = Int(v); });
    With(n, "label_name_length_limit", [&](const YAML::Node& v) { name_len = Int(v); });
    With(n, "label_value_length_limit", [&](const YAML::Node& v) { value_len = Int(v); });
    With(n, "target_limit", [&](const YAML::Node& v) { target = Int(v); });
  }

  ScrapeConfig DecodeScrape(const YAML::Node& n, const GlobalConfig& g) const {
    CheckFields(n, "scrape config",
                {"job_name",
                 "scrape_interval",
                 "scrape_timeout",
                 "metrics_path",
                 "scheme",
                 "params",
                 "honor_labels",
                 "honor_timestamps",
                 "track_timestamps_staleness",
                 "sample_limit",
                 "label_limit",
                 "label_name_length_limit",
                 "label_value_length_limit",
                 "target_limit",
                 "body_size_limit",
                 "keep_dropped_targets",
                 "relabel_configs",
                 "metric_relabel_configs",
                 "static_configs",
                 "file_sd_configs",
                 "kubernetes_sd_configs"},
                kHttpFields);
    ScrapeConfig s;
    With(n, "job_name", [&](const YAML::Node& v) { s.job_name = Str(v); });
    if (s.job_name.empty()) Fail(n, "job_name is empty");
    With(n, "scrape_interval", [&](const YAML::Node& v) { s.scrape_interval_ms = Duration(v); });
    if (s.scrape_interval_ms == 0) s.scrape_interval_ms = g.scrape_interval_ms;
    With(n, "scrape_timeout", [&](const YAML::Node& v) { s.scrape_timeout_ms = Duration(v); });
    if (s.scrape_timeout_ms == 0) s.scrape_timeout_ms = std::min(g.scrape_timeout_ms, s.scrape_interval_ms);
    if (s.scrape_timeout_ms > s.scrape_interval_ms) {
      Fail(n, "scrape timeout greater than scrape interval for scrape config with job name " +
                  GoQuote(s.job_name));
    }
    With(n, "metrics_path", [&](const YAML::Node& v) { s.metrics_path = Str(v); });
    With(n, "scheme", [&](const YAML::Node& v) {
      s.scheme = Str(v);
      if (s.scheme != "http" && s.scheme != "https") {
        Fail(v, "scheme must be \"http\" or \"https\", got " + GoQuote(s.scheme));
      }
    });
    DecodeParams(n, s);
    With(n, "honor_labels", [&](const YAML::Node& v) { s.honor_labels = Bool(v); });
    With(n, "honor_timestamps", [&](const YAML::Node& v) { s.honor_timestamps = Bool(v); });
    With(n, "track_timestamps_staleness",
         [&](const YAML::Node& v) { s.track_timestamps_staleness = Bool(v); });
    With(n, "body_size_limit", [&](const YAML::Node& v) { s.body_size_limit = Size(v); });
    DecodeLimits(n, s.sample_limit, s.label_limit, s.label_name_length_limit,
                 s.label_value_length_limit, s.target_limit);
    With(n, "keep_dropped_targets", [&](const YAML::Node& v) { s.keep_dropped_targets = Int(v); });
    InheritLimits(g, s);
    s.http = DecodeHttp(n);
    s.relabel_configs = DecodeRelabels(n, "relabel_configs");
    s.metric_relabel_configs = DecodeRelabels(n, "metric_relabel_configs");
    DecodeDiscovery(n, s.static_configs, s.file_sd_configs, s.kubernetes_sd_configs);
    return s;
  }

  // As Prometheus 2.45+, a limit the job leaves at 0 (unset) takes the global one.
  static void InheritLimits(const GlobalConfig& g, ScrapeConfig& s) {
    const auto inherit = [](int64_t& job, int64_t global) {
      if (job == 0) job = global;
    };
    inherit(s.body_size_limit, g.body_size_limit);
    inherit(s.sample_limit, g.sample_limit);
    inherit(s.label_limit, g.label_limit);
    inherit(s.label_name_length_limit, g.label_name_length_limit);
    inherit(s.label_value_length_limit, g.label_value_length_limit);
    inherit(s.target_limit, g.target_limit);
    inherit(s.keep_dropped_targets, g.keep_dropped_targets);
  }

  static void DecodeParams(const YAML::Node& n, ScrapeConfig& s) {
    if (!Present(n, "params")) return;
    const YAML::Node p = n["params"];
    if (!p.IsMap()) Fail(p, std::string("cannot unmarshal ") + YamlTag(p) + " into url.Values");
    for (const auto& kv : p) s.params[Str(kv.first)] = StrList(kv.second);
  }

  void DecodeDiscovery(const YAML::Node& n, std::vector<TargetGroup>& statics,
                       std::vector<FileSdConfig>& files,
                       std::vector<KubernetesSdConfig>& kubes) const {
    ForEach(n, "static_configs", [&](const YAML::Node& v) {
      statics.push_back(DecodeStatic(v));
      statics.back().source = std::to_string(statics.size() - 1);
    });
    ForEach(n, "file_sd_configs", [&](const YAML::Node& v) { files.push_back(DecodeFileSd(v)); });
    ForEach(n, "kubernetes_sd_configs",
            [&](const YAML::Node& v) { kubes.push_back(DecodeKubernetes(v)); });
  }

  static TargetGroup DecodeStatic(const YAML::Node& n) {
    CheckFields(n, "static config", {"targets", "labels"});
    TargetGroup tg;
    ForEach(n, "targets", [&](const YAML::Node& v) {
      const std::string target = Str(v);
      if (target.find('/') != std::string::npos) Fail(v, GoQuote(target) + " is not a valid hostname");
      tg.targets.push_back(target);
    });
    With(n, "labels", [&](const YAML::Node& v) { tg.labels = LabelMap(v); });
    return tg;
  }

  FileSdConfig DecodeFileSd(const YAML::Node& n) const {
    CheckFields(n, "file_sd config", {"files", "refresh_interval"});
    FileSdConfig f;
    ForEach(n, "files", [&](const YAML::Node& v) {
      const std::string name = Str(v);
      if (!IsValidFileSdName(name)) Fail(v, "path name " + GoQuote(name) + " is not valid for file discovery");
      f.files.push_back(Resolve(name));
    });
    if (f.files.empty()) Fail(n, "file service discovery config must contain at least one path name");
    With(n, "refresh_interval", [&](const YAML::Node& v) { f.refresh_interval_ms = Duration(v); });
    return f;
  }

  // Prometheus: ^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$
  static bool IsValidFileSdName(const std::string& name) {
    const size_t dot = name.rfind('.');
    if (dot == std::string::npos) return false;
    static const std::set<std::string> kExt = {"json", "yml", "yaml", "JSON", "YML", "YAML"};
    if (!kExt.count(name.substr(dot + 1))) return false;
    const size_t star = name.find('*');
    if (star == std::string::npos) return true;
    return name.find('*', star + 1) == std::string::npos &&
           name.find('/', star) == std::string::npos;
  }

  KubernetesSdConfig DecodeKubernetes(const YAML::Node& n) const {
    CheckFields(n, "kubernetes_sd config",
                {"role", "api_server", "kubeconfig_file", "namespaces", "selectors",
                 "attach_metadata"},
                kHttpFields);
    KubernetesSdConfig k;
    static const std::set<std::string> kRoles = {"pod",  "node",          "service",
                                                 "endpoints", "endpointslice", "ingress"};
    With(n, "role", [&](const YAML::Node& v) {
      k.role = Str(v);
      if (!kRoles.count(k.role)) Fail(v, "unknown Kubernetes SD role " + GoQuote(k.role));
    });
    if (k.role.empty()) {
      Fail(n, "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)");
    }
    With(n, "api_server", [&](const YAML::Node& v) {
      k.api_server = Str(v);
      CheckUrl(v, k.api_server);
    });
    With(n, "kubeconfig_file", [&](const YAML::Node& v) { k.kubeconfig_file = Resolve(Str(v)); });
    if (!k.api_server.empty() && !k.kubeconfig_file.empty()) {
      Fail(n, "cannot use 'kubeconfig_file' and 'api_server' simultaneously");
    }
    if (!k.kubeconfig_file.empty()) {
      Fail(n["kubeconfig_file"], "kubeconfig_file is not supported by Vigil; set api_server");
    }
    k.http = DecodeHttp(n);
    const bool custom_http = std::any_of(kHttpFields.begin(), kHttpFields.end(),
                                         [&](std::string_view f) { return Present(n, f); });
    if (k.api_server.empty() && custom_http) {
      Fail(n, "to use custom HTTP client configuration please provide the 'api_server' URL explicitly");
    }
    With(n, "namespaces", [&](const YAML::Node& v) {
      CheckFields(v, "namespaces", {"own_namespace", "names"});
      With(v, "own_namespace", [&](const YAML::Node& o) { k.own_namespace = Bool(o); });
      With(v, "names", [&](const YAML::Node& o) { k.namespaces = StrList(o); });
    });
    if (!k.api_server.empty() && k.own_namespace) {
      Fail(n, "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously");
    }
    ForEach(n, "selectors", [&](const YAML::Node& v) {
      CheckFields(v, "selector", {"role", "label", "field"});
      KubernetesSdConfig::Selector s;
      With(v, "role", [&](const YAML::Node& o) { s.role = Str(o); });
      With(v, "label", [&](const YAML::Node& o) { s.label = Str(o); });
      With(v, "field", [&](const YAML::Node& o) { s.field = Str(o); });
      if (!kRoles.count(s.role)) Fail(v, "invalid selector role " + GoQuote(s.role));
      CheckSelectorRole(v, k, s.role);
      k.selectors.push_back(s);
    });
    With(n, "attach_metadata", [&](const YAML::Node& v) {
      CheckFields(v, "attach_metadata", {"node"});
      With(v, "node", [&](const YAML::Node& o) { k.attach_metadata_node = Bool(o); });
    });
    return k;
  }

  // Prometheus's rule: each role takes selectors for the resources it
  // watches, at most one per resource.
  void CheckSelectorRole(const YAML::Node& v, const KubernetesSdConfig& k,
                         const std::string& role) const {
    for (const auto& s : k.selectors) {
      if (s.role == role) Fail(v, "duplicated selector role: " + role);
    }
    static const std::map<std::string, std::vector<std::string>> kAllowed = {
        {"pod", {"pod"}},
        {"service", {"service"}},
        {"endpointslice", {"pod", "service", "endpointslice"}},
        {"endpoints", {"pod", "service", "endpoints"}},
        {"node", {"node"}},
        {"ingress", {"ingress"}}};
    const std::vector<std::string>& allowed = kAllowed.at(k.role);
    if (std::find(allowed.begin(), allowed.end(), role) != allowed.end()) return;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    Fail(v, k.role + " role supports only " + list + " selectors");
  }

  HttpClientConfig DecodeHttp(const YAML::Node& n) const {
    HttpClientConfig h;
    With(n, "basic_auth", [&](const YAML::Node& v) {
      CheckFields(v, "basic_auth", {"username", "password", "password_file"});
      BasicAuth b;
      With(v, "username", [&](const YAML::Node& o) { b.username = Str(o); });
      With(v, "password", [&](const YAML::Node& o) { b.password = Str(o); });
      With(v, "password_file", [&](const YAML::Node& o) { b.password_file = Resolve(Str(o)); });
      if (!b.password.empty() && !b.password_file.empty()) {
        Fail(v, "at most one of basic_auth password & password_file must be configured");
      }
      h.basic_auth = b;
    });
    With(n, "authorization", [&](const YAML::Node& v) {
      CheckFields(v, "authorization", {"type", "credentials", "credentials_file"});
      Authorization a;
      With(v, "type", [&](const YAML::Node& o) { a.type = Str(o); });
      With(v, "credentials", [&](const YAML::Node& o) { a.credentials = Str(o); });
      With(v, "credentials_file", [&](const YAML::Node& o) { a.credentials_file = Resolve(Str(o)); });
      if (a.type == "basic" || a.type == "Basic") {
        Fail(v, "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
      }
      if (!a.credentials.empty() && !a.credentials_file.empty()) {
        Fail(v, "at most one of authorization credentials & credentials_file must be configured");
      }
      h.authorization = a;
    });
    DecodeBearer(n, h);
    With(n, "oauth2", [&](const YAML::Node& v) { h.oauth2 = DecodeOAuth2(v); });
    if (h.oauth2 && h.basic_auth) {
      Fail(
          n,
          "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
    }
    if (h.oauth2 && h.authorization) {
      Fail(n, Present(n, "authorization")
                  ? "at most one of oauth2 & authorization must be configured"
                  : "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be "
                    "configured");
    }
    With(n, "tls_config", [&](const YAML::Node& v) { h.tls_config = DecodeTls(v); });
    h.proxy = DecodeProxy(n);
    With(n, "follow_redirects", [&](const YAML::Node& v) { h.follow_redirects = Bool(v); });
    With(n, "enable_http2", [&](const YAML::Node& v) { h.enable_http2 = Bool(v); });
    return h;
  }

  OAuth2 DecodeOAuth2(const YAML::Node& n) const {
    CheckFields(n, "oauth2",
                {"client_id", "client_secret", "client_secret_file", "scopes", "token_url",
                 "endpoint_params", "tls_config", "proxy_url", "no_proxy", "proxy_from_environment",
                 "proxy_connect_header"});
    OAuth2 o;
    With(n, "client_id", [&](const YAML::Node& v) { o.client_id = Str(v); });
    With(n, "client_secret", [&](const YAML::Node& v) { o.client_secret = Str(v); });
    With(n, "client_secret_file",
         [&](const YAML::Node& v) { o.client_secret_file = Resolve(Str(v)); });
    With(n, "scopes", [&](const YAML::Node& v) { o.scopes = StrList(v); });
    With(n, "token_url", [&](const YAML::Node& v) { o.token_url = Str(v); });
    With(n, "endpoint_params", [&](const YAML::Node& v) { o.endpoint_params = StrMap(v); });
    With(n, "tls_config", [&](const YAML::Node& v) { o.tls_config = DecodeTls(v); });
    o.proxy = DecodeProxy(n);
    if (!o.client_secret.empty() && !o.client_secret_file.empty()) {
      Fail(n, "at most one of oauth2 client_secret & client_secret_file must be configured");
    }
    if (!o.token_url.starts_with("http://") && !o.token_url.starts_with("https://")) {
      Fail(n, "oauth2 token_url must be an http:// or https:// URL, got \"" + o.token_url + "\"");
    }
    return o;
  }

  // The proxy fields inlined in an HTTP client or oauth2 section, checked as
  // prometheus/common's ProxyConfig.Validate, with its messages and order.
  static ProxyConfig DecodeProxy(const YAML::Node& n) {
    ProxyConfig p;
    With(n, "proxy_url", [&](const YAML::Node& v) { p.proxy_url = ProxyUrl(v); });
    With(n, "no_proxy", [&](const YAML::Node& v) { p.no_proxy = Str(v); });
    With(n, "proxy_from_environment",
         [&](const YAML::Node& v) { p.proxy_from_environment = Bool(v); });
    With(n, "proxy_connect_header", [&](const YAML::Node& v) {
      if (!v.IsMap())
        Fail(v, std::string("cannot unmarshal ") + YamlTag(v) + " into config.Header");
      for (const auto& kv : v) {
        if (!p.proxy_connect_header.emplace(Str(kv.first), SecretList(kv.second)).second) {
          Fail(kv.first, "mapping key " + GoQuote(kv.first.Scalar()) + " already defined");
        }
      }
    });
    if (!p.proxy_connect_header.empty() && !p.proxy_from_environment && p.proxy_url.empty()) {
      Fail(n,
           "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also "
           "be configured");
    }
    if (p.proxy_from_environment && !p.proxy_url.empty()) {
      Fail(n, "if proxy_from_environment is configured, proxy_url must not be configured");
    }
    if (p.proxy_from_environment && !p.no_proxy.empty()) {
      Fail(n, "if proxy_from_environment is configured, no_proxy must not be configured");
    }
    if (p.proxy_url.empty() && !p.no_proxy.empty()) {
      Fail(n, "if no_proxy is configured, proxy_url must also be configured");
    }
    if (p.proxy_from_environment) CheckEnvironmentProxies(n["proxy_from_environment"]);
    return p;
  }

  // A header's values: a list of strings (Go's []Secret), null entries empty.
  static std::vector<std::string> SecretList(const YAML::Node& v) {
    if (v.IsNull()) return {};
    if (!v.IsSequence()) {
      Fail(v, std::string("cannot unmarshal ") + YamlTag(v) + " into []config.Secret");
    }
    std::vector<std::string> out;
    for (const auto& item : v) out.push_back(item.IsNull() ? "" : Str(item));
    return out;
  }

  // Go would also use https:// and socks5:// proxies from the environment;
  // Vigil speaks to HTTP proxies only, so it refuses rather than ignore one.
  static void CheckEnvironmentProxies(const YAML::Node& v) {
    const ProxyEnvironment env = ProxyEnvironment::FromProcess();
    for (const auto& [name, value] :
         {std::pair{"HTTP_PROXY", env.http_proxy}, std::pair{"HTTPS_PROXY", env.https_proxy}}) {
      const std::string url = NormalizeEnvironmentProxy(value);
      if (url.empty() || url.starts_with("http://")) continue;
      Fail(v, std::string("proxy_from_environment: unsupported proxy scheme in ") + name +
                  " (Vigil speaks to HTTP proxies only, http://host:port): " + RedactUrl(url));
    }
  }

  // proxy_url: an HTTP proxy, http://[user:password@]host:port.
  static std::string ProxyUrl(const YAML::Node& v) {
    const std::string url = Str(v);
    if (url.empty()) return url;
    if (!url.starts_with("http://")) {
      Fail(v,
           "unsupported proxy_url scheme (Vigil speaks to HTTP proxies only, "
           "http://host:port): " +
               RedactUrl(url));
    }
    const auto [base, rest] = SplitUrl(url);
    if (rest != "/" && !rest.empty()) Fail(v, "proxy_url must not have a path: " + RedactUrl(url));
    if (base.rfind(':') <= 6) Fail(v, "proxy_url needs a port: " + RedactUrl(url));
    return url;
  }

  void DecodeBearer(const YAML::Node& n, HttpClientConfig& h) const {
    const bool token = Present(n, "bearer_token");
    const bool token_file = Present(n, "bearer_token_file");
    if (!token && !token_file) return;
    if (token && token_file) {
      Fail(n, "at most one of bearer_token & bearer_token_file must be configured");
    }
    if (h.basic_auth) {
      Fail(n, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
    }
    if (h.authorization) {
      Fail(n, "authorization is not compatible with bearer_token & bearer_token_file");
    }
    Authorization a;
    if (token) a.credentials = Str(n["bearer_token"]);
    if (token_file) a.credentials_file = Resolve(Str(n["bearer_token_file"]));
    h.authorization = a;
  }

  TlsConfig DecodeTls(const YAML::Node& n) const {
    CheckFields(n, "tls_config",
                {"ca_file", "cert_file", "key_file", "ca", "cert", "key", "server_name",
                 "insecure_skip_verify", "min_version"});
    TlsConfig t;
    With(n, "ca_file", [&](const YAML::Node& v) { t.ca_file = Resolve(Str(v)); });
    With(n, "cert_file", [&](const YAML::Node& v) { t.cert_file = Resolve(Str(v)); });
    With(n, "key_file", [&](const YAML::Node& v) { t.key_file = Resolve(Str(v)); });
    With(n, "ca", [&](const YAML::Node& v) { t.ca = Str(v); });
    With(n, "cert", [&](const YAML::Node& v) { t.cert = Str(v); });
    With(n, "key", [&](const YAML::Node& v) { t.key = Str(v); });
    With(n, "server_name", [&](const YAML::Node& v) { t.server_name = Str(v); });
    With(n, "insecure_skip_verify", [&](const YAML::Node& v) { t.insecure_skip_verify = Bool(v); });
    With(n, "min_version", [&](const YAML::Node& v) {
      t.min_version = Str(v);
      static const std::set<std::string> kVersions = {"TLS10", "TLS11", "TLS12", "TLS13"};
      if (!kVersions.count(t.min_version)) Fail(v, "unknown TLS version: " + t.min_version);
    });
    if (!t.ca.empty() && !t.ca_file.empty()) {
      Fail(n, "at most one of ca and ca_file must be configured");
    }
    const bool has_cert = !t.cert.empty() || !t.cert_file.empty();
    const bool has_key = !t.key.empty() || !t.key_file.empty();
    if (has_cert != has_key) {
      Fail(n, has_cert ? "exactly one of key and key_file must be configured when a client certificate is configured"
                       : "exactly one of cert and cert_file must be configured when a client key is configured");
    }
    return t;
  }

  static std::vector<RelabelConfig> DecodeRelabels(const YAML::Node& n, std::string_view key) {
    std::vector<RelabelConfig> out;
    ForEach(n, key, [&](const YAML::Node& v) { out.push_back(DecodeRelabel(v)); });
    return out;
  }

  static RelabelConfig DecodeRelabel(const YAML::Node& n) {
    CheckFields(n, "relabel config",
                {"source_labels", "separator", "regex", "modulus", "target_label", "replacement",
                 "action"});
    RelabelConfig r;
    With(n, "source_labels", [&](const YAML::Node& v) {
      r.source_labels = StrList(v);
      for (const auto& name : r.source_labels) {
        if (!IsValidLabelName(name)) Fail(v, GoQuote(name) + " is not a valid label name");
      }
    });
    With(n, "separator", [&](const YAML::Node& v) { r.separator = Str(v); });
    With(n, "regex", [&](const YAML::Node& v) { r.regex = Str(v); });
    With(n, "modulus", [&](const YAML::Node& v) { r.modulus = static_cast<uint64_t>(Int(v)); });
    With(n, "target_label", [&](const YAML::Node& v) { r.target_label = Str(v); });
    With(n, "replacement", [&](const YAML::Node& v) { r.replacement = Str(v); });
    if (Present(n, "action")) {
      const YAML::Node v = n["action"];
      const std::string name = Str(v);
      if (name.empty()) Fail(v, "relabel action cannot be empty");
      auto action = ParseRelabelAction(name);
      if (!action) Fail(v, "unknown relabel action " + GoQuote(name));
      r.action = *action;
    }
    const Status st = CompileRelabelConfig(r);
    if (!st.ok()) Fail(n, st.message());
    return r;
  }

  AlertingConfig DecodeAlerting(const YAML::Node& n) const {
    CheckFields(n, "alerting config", {"alert_relabel_configs", "alertmanagers"});
    AlertingConfig a;
    a.alert_relabel_configs = DecodeRelabels(n, "alert_relabel_configs");
    ForEach(n, "alertmanagers", [&](const YAML::Node& v) {
      CheckFields(v, "alertmanager config",
                  {"scheme", "path_prefix", "timeout", "api_version", "relabel_configs",
                   "static_configs", "file_sd_configs", "kubernetes_sd_configs"},
                  kHttpFields);
      AlertmanagerConfig am;
      With(v, "scheme", [&](const YAML::Node& o) { am.scheme = Str(o); });
      With(v, "path_prefix", [&](const YAML::Node& o) { am.path_prefix = Str(o); });
      With(v, "timeout", [&](const YAML::Node& o) { am.timeout_ms = Duration(o); });
      With(v, "api_version", [&](const YAML::Node& o) {
        am.api_version = Str(o);
        if (am.api_version != "v1" && am.api_version != "v2") {
          // Prometheus prints this one with %v: no quotes.
          Fail(o, "expected Alertmanager api version to be one of [v1 v2] but got " + am.api_version);
        }
      });
      am.http = DecodeHttp(v);
      am.relabel_configs = DecodeRelabels(v, "relabel_configs");
      DecodeDiscovery(v, am.static_configs, am.file_sd_configs, am.kubernetes_sd_configs);
      a.alertmanagers.push_back(std::move(am));
    });
    return a;
  }

  RemoteWriteConfig DecodeRemoteWrite(const YAML::Node& n) const {
    CheckFields(n, "remote write config",
                {"url", "name", "remote_timeout", "headers", "write_relabel_configs",
                 "send_exemplars", "queue_config", "metadata_config", "sigv4", "azuread"},
                kHttpFields);
    RemoteWriteConfig r;
    With(n, "url", [&](const YAML::Node& v) { r.url = Str(v); });
    if (r.url.empty()) Fail(n, "url for remote_write is empty");
    CheckUrl(n["url"], r.url);
    for (std::string_view f : {"sigv4", "azuread"}) {
      if (Present(n, f)) Fail(n[std::string(f)], std::string(f) + " is not supported by Vigil");
    }
    With(n, "name", [&](const YAML::Node& v) { r.name = Str(v); });
    With(n, "remote_timeout", [&](const YAML::Node& v) { r.remote_timeout_ms = Duration(v); });
    With(n, "headers", [&](const YAML::Node& v) { r.headers = Headers(v); });
    r.write_relabel_configs = DecodeRelabels(n, "write_relabel_configs");
    With(n, "send_exemplars", [&](const YAML::Node& v) { r.send_exemplars = Bool(v); });
    With(n, "queue_config", [&](const YAML::Node& v) { r.queue_config = DecodeQueue(v); });
    With(n, "metadata_config", [&](const YAML::Node& v) {
      CheckFields(v, "metadata config", {"send", "send_interval", "max_samples_per_send"});
      With(v, "send", [&](const YAML::Node& o) { r.metadata_config.send = Bool(o); });
      With(v, "send_interval", [&](const YAML::Node& o) { r.metadata_config.send_interval_ms = Duration(o); });
      With(v, "max_samples_per_send", [&](const YAML::Node& o) { r.metadata_config.max_samples_per_send = Int(o); });
    });
    r.http = DecodeHttp(n);
    return r;
  }

  static QueueConfig DecodeQueue(const YAML::Node& n) {
    CheckFields(n, "queue config",
                {"capacity", "max_shards", "min_shards", "max_samples_per_send",
                 "batch_send_deadline", "min_backoff", "max_backoff", "retry_on_http_429"});
    QueueConfig q;
    With(n, "capacity", [&](const YAML::Node& v) { q.capacity = Int(v); });
    With(n, "max_shards", [&](const YAML::Node& v) { q.max_shards = Int(v); });
    With(n, "min_shards", [&](const YAML::Node& v) { q.min_shards = Int(v); });
    With(n, "max_samples_per_send", [&](const YAML::Node& v) { q.max_samples_per_send = Int(v); });
    With(n, "batch_send_deadline", [&](const YAML::Node& v) { q.batch_send_deadline_ms = Duration(v); });
    With(n, "min_backoff", [&](const YAML::Node& v) { q.min_backoff_ms = Duration(v); });
    With(n, "max_backoff", [&](const YAML::Node& v) { q.max_backoff_ms = Duration(v); });
    With(n, "retry_on_http_429", [&](const YAML::Node& v) { q.retry_on_http_429 = Bool(v); });
    return q;
  }

  // Prometheus refuses headers it manages itself.
  static std::map<std::string, std::string> Headers(const YAML::Node& n) {
    auto headers = StrMap(n);
    static const std::set<std::string> kReserved = {
        "authorization", "host", "content-encoding", "content-length", "content-type",
        "user-agent", "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
        "www-authenticate", "accept-encoding", "x-prometheus-remote-write-version",
        "x-prometheus-remote-read-version"};
    for (const auto& [name, value] : headers) {
      std::string lower = name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // Prometheus prints the header with %s: no quotes.
      if (kReserved.count(lower)) Fail(n, name + " is a reserved header. It must not be changed");
    }
    return headers;
  }

  RemoteReadConfig DecodeRemoteRead(const YAML::Node& n) const {
    CheckFields(n, "remote read config",
                {"url", "name", "remote_timeout", "headers", "read_recent", "required_matchers",
                 "filter_external_labels"},
                kHttpFields);
    RemoteReadConfig r;
    With(n, "url", [&](const YAML::Node& v) { r.url = Str(v); });
    if (r.url.empty()) Fail(n, "url for remote_read is empty");
    CheckUrl(n["url"], r.url);
    With(n, "name", [&](const YAML::Node& v) { r.name = Str(v); });
    With(n, "remote_timeout", [&](const YAML::Node& v) { r.remote_timeout_ms = Duration(v); });
    With(n, "headers", [&](const YAML::Node& v) { r.headers = Headers(v); });
    With(n, "read_recent", [&](const YAML::Node& v) { r.read_recent = Bool(v); });
    With(n, "required_matchers", [&](const YAML::Node& v) { r.required_matchers = StrMap(v); });
    With(n, "filter_external_labels", [&](const YAML::Node& v) { r.filter_external_labels = Bool(v); });
    r.http = DecodeHttp(n);
    return r;
  }

  static StorageConfig DecodeStorage(const YAML::Node& n) {
    CheckFields(n, "storage config", {"tsdb", "exemplars"});
    StorageConfig s;
    With(n, "tsdb", [&](const YAML::Node& v) {
      CheckFields(v, "tsdb config", {"out_of_order_time_window"});
      With(v, "out_of_order_time_window", [&](const YAML::Node& o) { s.out_of_order_time_window_ms = Duration(o); });
    });
    With(n, "exemplars", [&](const YAML::Node& v) {
      CheckFields(v, "exemplars config", {"max_exemplars"});
      With(v, "max_exemplars", [&](const YAML::Node& o) { s.max_exemplars = Int(o); });
    });
    return s;
  }

  std::filesystem::path dir_;
};

// --enable-feature=expand-external-labels, as Prometheus 2.48's config.Load:
// os.Expand over each value, "$$" giving "$", unset variables "" with a
// warning. The shown text (Config::original) carries the expanded values, as
// Prometheus marshals its expanded config for /api/v1/status/config.
void ExpandExternalLabels(Config& config) {
  const auto lookup = [](const std::string& name) -> std::string {
    if (name == "$") return "$";
    const char* value = std::getenv(name.c_str());
    if (value != nullptr && *value != '\0') return value;
    VLOG_WARN("Empty environment variable", {{"name", name}});
    return "";
  };
  std::vector<Label> expanded;
  bool changed = false;
  for (const Label& l : config.global.external_labels) {
    expanded.push_back({l.name, ExpandVariables(l.value, lookup)});
    changed = changed || expanded.back().value != l.value;
  }
  if (!changed) return;
  config.global.external_labels = Labels(expanded);
  YAML::Node root = YAML::Load(config.original);
  YAML::Node labels = root["global"]["external_labels"];
  for (const Label& l : expanded) labels[l.name] = l.value;
  YAML::Emitter out;
  out << root;
  config.original = std::string(out.c_str()) + "\n";
}

}  // namespace

std::map<std::string, std::vector<std::string>> AcceptedConfigFields() {
  return FieldRegistry::Get().Snapshot();
}

Result<Config> LoadConfigString(const std::string& yaml, const std::string& filename,
                                const LoadOptions& options) {
  const std::string prefix = "parsing YAML file " + filename + ": ";
  try {
    const YAML::Node root = YAML::Load(yaml);
    CheckAliasExpansion(root, yaml.size());
    ConfigDecoder decoder(std::filesystem::path(filename).parent_path());
    Config config = decoder.Decode(root);
    config.source_file = filename;
    config.original = yaml;
    if (options.expand_external_labels) ExpandExternalLabels(config);
    return config;
  } catch (const ConfigError& e) {
    return Status::InvalidArgument(e.complete ? e.message : prefix + e.message);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(prefix + "line " + std::to_string(e.mark.line + 1) +
                                   ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Result<Config> LoadConfigFile(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("open " + path + ": no such file or directory");
  std::ostringstream text;
  text << in.rdbuf();
  return LoadConfigString(text.str(), path, options);
}

}  // namespace vigil::config
