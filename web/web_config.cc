#include "web/web_config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "web/tls_context.h"

namespace vigil::web {
namespace {

// The headers exporter-toolkit lets a web config add, with their allowed values (empty: any).
const std::map<std::string, std::vector<std::string>>& AllowedHeaders() {
  static const auto* headers = new std::map<std::string, std::vector<std::string>>{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return *headers;
}

// Go's tls.CipherSuites(): the names a web config may list.
const std::set<std::string>& KnownCipherSuites() {
  static const auto* names = new std::set<std::string>{
      "TLS_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  };
  return *names;
}

const std::map<std::string, int>& TlsVersions() {
  static const auto* versions = new std::map<std::string, int>{
      {"TLS10", 0x0301}, {"TLS11", 0x0302}, {"TLS12", 0x0303}, {"TLS13", 0x0304}};
  return *versions;
}

const std::set<std::string>& KnownCurves() {
  static const auto* curves =
      new std::set<std::string>{"CurveP256", "CurveP384", "CurveP521", "X25519"};
  return *curves;
}

int LineOf(const YAML::Node& node) { return node.Mark().line + 1; }

Status UnmarshalError(const YAML::Node& node, const std::string& what) {
  return Status::InvalidArgument("yaml: unmarshal errors:\n  line " + std::to_string(LineOf(node)) +
                                 ": " + what);
}

std::string Tag(const YAML::Node& node) {
  if (node.IsMap()) return "!!map";
  if (node.IsSequence()) return "!!seq";
  return "!!str `" + node.Scalar() + "`";
}

Status CannotUnmarshal(const YAML::Node& node, const std::string& type) {
  return UnmarshalError(node, "cannot unmarshal " + Tag(node) + " into " + type);
}

Status ReadString(const YAML::Node& node, std::string* out) {
  if (node.IsNull()) return Status::OK();
  if (!node.IsScalar()) return CannotUnmarshal(node, "string");
  *out = node.Scalar();
  return Status::OK();
}

Status ReadBool(const YAML::Node& node, bool* out) {
  if (node.IsNull()) return Status::OK();
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    return CannotUnmarshal(node, "bool");
  }
  *out = value;
  return Status::OK();
}

Status ReadStringList(const YAML::Node& node, std::vector<std::string>* out) {
  if (node.IsNull()) return Status::OK();
  if (!node.IsSequence()) return CannotUnmarshal(node, "[]string");
  for (const auto& item : node) {
    std::string value;
    if (Status st = ReadString(item, &value); !st.ok()) return st;
    out->push_back(value);
  }
  return Status::OK();
}

// A list of names each checked against `known`; `what` names the error ("cipher").
Status ReadNameList(const YAML::Node& node, const std::set<std::string>& known,
                    const std::string& what, std::vector<std::string>* out) {
  if (Status st = ReadStringList(node, out); !st.ok()) return st;
  for (const auto& name : *out) {
    if (!known.contains(name)) return Status::InvalidArgument("unknown " + what + ": " + name);
  }
  return Status::OK();
}

Status ReadVersion(const YAML::Node& node, int* out) {
  std::string name;
  if (Status st = ReadString(node, &name); !st.ok()) return st;
  if (node.IsNull()) return Status::OK();
  const auto it = TlsVersions().find(name);
  if (it == TlsVersions().end()) return Status::InvalidArgument("unknown TLS version: " + name);
  *out = it->second;
  return Status::OK();
}

Status ParseTlsServerConfig(const YAML::Node& node, TlsServerConfig* tls) {
  if (node.IsNull()) return Status::OK();
  if (!node.IsMap()) return CannotUnmarshal(node, "web.TLSConfig");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    Status st;
    if (key == "cert_file") {
      st = ReadString(v, &tls->cert_file);
    } else if (key == "key_file") {
      st = ReadString(v, &tls->key_file);
    } else if (key == "client_auth_type") {
      st = ReadString(v, &tls->client_auth_type);
    } else if (key == "client_ca_file") {
      st = ReadString(v, &tls->client_ca_file);
    } else if (key == "cipher_suites") {
      st = ReadNameList(v, KnownCipherSuites(), "cipher", &tls->cipher_suites);
    } else if (key == "curve_preferences") {
      st = ReadNameList(v, KnownCurves(), "curve", &tls->curve_preferences);
    } else if (key == "min_version") {
      st = ReadVersion(v, &tls->min_version);
    } else if (key == "max_version") {
      st = ReadVersion(v, &tls->max_version);
    } else if (key == "prefer_server_cipher_suites") {
      st = ReadBool(v, &tls->prefer_server_cipher_suites);
    } else if (key == "client_allowed_sans") {
      tls->has_client_allowed_sans = !v.IsNull();
      st = ReadStringList(v, &tls->client_allowed_sans);
    } else {
      st = UnmarshalError(kv.first, "field " + key + " not found in type web.TLSConfig");
    }
    if (!st.ok()) return st;
  }
  return Status::OK();
}

Status ParseStringMap(const YAML::Node& node, std::map<std::string, std::string>* out) {
  if (node.IsNull()) return Status::OK();
  if (!node.IsMap()) return CannotUnmarshal(node, "map[string]string");
  for (const auto& kv : node) {
    std::string value;
    if (Status st = ReadString(kv.second, &value); !st.ok()) return st;
    (*out)[kv.first.Scalar()] = value;
  }
  return Status::OK();
}

Status ParseHttpServerConfig(const YAML::Node& node, WebConfig* config) {
  if (node.IsNull()) return Status::OK();
  if (!node.IsMap()) return CannotUnmarshal(node, "web.HTTPConfig");
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    Status st;
    if (key == "http2") {
      st = ReadBool(kv.second, &config->http2);
    } else if (key == "headers") {
      st = ParseStringMap(kv.second, &config->headers);
    } else {
      st = UnmarshalError(kv.first, "field " + key + " not found in type web.HTTPConfig");
    }
    if (!st.ok()) return st;
  }
  return Status::OK();
}

std::string Quoted(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    out += (i > 0 ? " \"" : "\"") + values[i] + "\"";
  }
  return out + "]";
}

Status CheckHeaders(const std::map<std::string, std::string>& headers) {
  for (const auto& [name, value] : headers) {
    const auto it = AllowedHeaders().find(name);
    if (it == AllowedHeaders().end()) {
      return Status::InvalidArgument("HTTP header \"" + name + "\" can not be configured");
    }
    const auto& allowed = it->second;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      return Status::InvalidArgument("invalid value for " + name + ". Expected one of: " +
                                     Quoted(allowed) + ", but got: \"" + value + "\"");
    }
  }
  return Status::OK();
}

Status ParseWebConfigNode(const YAML::Node& root, WebConfig* config) {
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) return CannotUnmarshal(root, "web.Config");
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    Status st;
    if (key == "tls_server_config") {
      st = ParseTlsServerConfig(kv.second, &config->tls);
    } else if (key == "http_server_config") {
      st = ParseHttpServerConfig(kv.second, config);
    } else if (key == "basic_auth_users") {
      st = ParseStringMap(kv.second, &config->basic_auth_users);
    } else {
      st = UnmarshalError(kv.first, "field " + key + " not found in type web.Config");
    }
    if (!st.ok()) return st;
  }
  return Status::OK();
}

// A path relative to the web config file's folder, as exporter-toolkit's SetDirectory.
std::string JoinDir(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return (std::filesystem::path(dir) / path).lexically_normal().string();
}

std::string LowerFirst(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

Result<WebConfig> ParseWebConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("open " + path + ": " + LowerFirst(std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  WebConfig config;
  try {
    const YAML::Node root = YAML::Load(text.str());
    if (Status st = ParseWebConfigNode(root, &config); !st.ok()) return st;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (Status st = CheckHeaders(config.headers); !st.ok()) return st;
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const std::string base = dir.empty() ? "." : dir;
  config.tls.cert_file = JoinDir(base, config.tls.cert_file);
  config.tls.key_file = JoinDir(base, config.tls.key_file);
  config.tls.client_ca_file = JoinDir(base, config.tls.client_ca_file);
  return config;
}

WebConfigFile::WebConfigFile(std::string path, WebConfig loaded)
    : path_(std::move(path)),
      stamp_(StampOf(path_)),
      config_(std::make_shared<const WebConfig>(std::move(loaded))) {}

WebConfigFile::Stamp WebConfigFile::StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
          static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

Result<std::shared_ptr<const WebConfig>> WebConfigFile::Current() {
  const Stamp now = StampOf(path_);
  std::lock_guard<std::mutex> lock(mu_);
  if (now == stamp_ && now != Stamp{}) return config_;
  auto parsed = ParseWebConfigFile(path_);
  if (!parsed.ok()) return parsed.status();
  stamp_ = now;
  config_ = std::make_shared<const WebConfig>(std::move(*parsed));
  return config_;
}

Status CheckBcryptHash(const std::string& hash) {
  constexpr size_t kMinHashSize = 59;
  if (hash.size() < kMinHashSize) {
    return Status::InvalidArgument(
        "crypto/bcrypt: hashedSecret too short to be a bcrypted password");
  }
  if (hash[0] != '$') {
    return Status::InvalidArgument(
        std::string("crypto/bcrypt: bcrypt hashes must start with '$', but hashedSecret "
                    "started with '") +
        hash[0] + "'");
  }
  if (hash[1] > '2') {
    return Status::InvalidArgument(std::string("crypto/bcrypt: bcrypt algorithm version '") +
                                   hash[1] + "' requested is newer than current version '2'");
  }
  const size_t cost_at = hash[2] == '$' ? 3 : 4;
  const std::string cost_text = hash.substr(cost_at, 2);
  int cost = 0;
  for (char c : cost_text) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("strconv.Atoi: parsing \"" + cost_text + "\": invalid syntax");
    }
    cost = cost * 10 + (c - '0');
  }
  if (cost < 4 || cost > 31) {
    return Status::InvalidArgument("crypto/bcrypt: cost " + std::to_string(cost) +
                                   " is outside allowed range (4,31)");
  }
  return Status::OK();
}

Result<std::shared_ptr<const LoadedWebConfig>> LoadWebConfig(const std::string& path) {
  auto config = ParseWebConfigFile(path);
  if (!config.ok()) return config.status();
  for (const auto& [user, hash] : config->basic_auth_users) {
    if (Status st = CheckBcryptHash(hash); !st.ok()) return st;
  }
  auto loaded = std::make_shared<LoadedWebConfig>();
  loaded->config = std::move(*config);
  if (loaded->config.tls.enabled()) {
    auto tls = NewServerTlsContext(loaded->config.tls);
    if (!tls.ok()) return tls.status();
    loaded->tls = std::move(*tls);
  }
  return std::shared_ptr<const LoadedWebConfig>(std::move(loaded));
}

int RunCheckWebConfig(const std::vector<std::string>& files, std::ostream& err) {
  for (const auto& file : files) {
    if (!std::filesystem::exists(file)) {
      err << "vigil: error: path '" << file << "' does not exist, try --help\n";
      return 1;
    }
  }
  int exit_code = 0;
  for (const auto& file : files) {
    auto loaded = LoadWebConfig(file);
    if (loaded.ok()) {
      err << file << " SUCCESS\n";
    } else {
      err << file << " FAILED: " << loaded.status().message() << "\n";
      exit_code = 1;
    }
  }
  return exit_code;
}

}  // namespace vigil::web
