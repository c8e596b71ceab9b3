// WebConfig: the file of --web.config.file, in the format of Prometheus's
// exporter-toolkit (TLS server settings, extra security headers, basic auth
// users with bcrypt hashes), with its validation rules and error texts.
//
// Loading is strict as exporter-toolkit's yaml.UnmarshalStrict: an unknown
// field is an error. Relative file paths are relative to the file's folder.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace vigil::web {

struct TlsServerConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_auth_type;  // "" or one of the five Go tls.ClientAuthType names
  std::string client_ca_file;
  std::vector<std::string> cipher_suites;      // Go (IANA) names, validated
  std::vector<std::string> curve_preferences;  // CurveP256, CurveP384, CurveP521, X25519
  int min_version = 0x0303;                    // TLS 1.2
  int max_version = 0x0304;                    // TLS 1.3
  bool prefer_server_cipher_suites = true;
  bool has_client_allowed_sans = false;
  std::vector<std::string> client_allowed_sans;

  // Whether any of the fields that switch TLS on is set.
  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !client_auth_type.empty() ||
           !client_ca_file.empty();
  }
};

struct WebConfig {
  TlsServerConfig tls;
  bool http2 = true;  // Vigil speaks HTTP/1.1 only, so either value holds
  std::map<std::string, std::string> headers;
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt hash
};

// Reads and parses `path` (YAML and header checks only, as exporter-toolkit's getConfig).
Result<WebConfig> ParseWebConfigFile(const std::string& path);

// Checks a bcrypt hash's format as Go's bcrypt.Cost does (prefix, version, cost).
Status CheckBcryptHash(const std::string& hash);

// A web config with its TLS context built from the files it names (null
// when TLS is off). Built again for every connection so rotated files apply.
struct LoadedWebConfig {
  WebConfig config;
  std::shared_ptr<SSL_CTX> tls;
};

// ParseWebConfigFile + bcrypt hash checks + the TLS context (certificate and
// key loaded, client CAs read): what Prometheus validates at startup.
Result<std::shared_ptr<const LoadedWebConfig>> LoadWebConfig(const std::string& path);

// The users and headers every request is checked against. exporter-toolkit
// parses the file on every request, so a user removed from it is refused on
// the next request, even on a kept-alive connection; this does the same but
// parses again only when the file's identity (inode, size, mtime) changed.
// Thread-safe.
class WebConfigFile {
 public:
  WebConfigFile(std::string path, WebConfig loaded);

  // The file's current contents; an error when it no longer parses (the
  // request is then answered 500, as exporter-toolkit does).
  Result<std::shared_ptr<const WebConfig>> Current();

 private:
  struct Stamp {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  static Stamp StampOf(const std::string& path);

  const std::string path_;
  std::mutex mu_;
  Stamp stamp_;                              // mu_
  std::shared_ptr<const WebConfig> config_;  // mu_
};

// `vigil check web-config FILE...` as `promtool check web-config`: one
// "FILE SUCCESS" or "FILE FAILED: error" line per file on `err`; 0 when all pass.
int RunCheckWebConfig(const std::vector<std::string>& files, std::ostream& err);

}  // namespace vigil::web
