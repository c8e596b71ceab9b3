// The HTTP client settings of a config (TLS, auth headers) applied to
// cpp-httplib, shared by scrapes and service discovery. Internal header.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <utility>

#include "config/config.h"
#include "base/status.h"

namespace vigil::config {

// Splits "scheme://host:port/path?query" into ("scheme://host:port", "/path?query").
std::pair<std::string, std::string> SplitUrl(const std::string& url);

// A client for `base` ("scheme://host:port") honouring `http.tls_config`
// (CA file, client certificate, insecure_skip_verify) and follow_redirects.
std::unique_ptr<httplib::Client> NewHttpClient(const std::string& base, const HttpClientConfig& http);

// The Authorization header of `http` (basic_auth or authorization /
// bearer token), reading credential files now so rotated secrets apply.
Status AddAuthHeaders(const HttpClientConfig& http, httplib::Headers& headers);

// Reads a credentials file, trimming surrounding whitespace as Prometheus does.
Result<std::string> ReadSecretFile(const std::string& path);

}  // namespace vigil::config
