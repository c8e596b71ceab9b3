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

// `url` with the password of its user info replaced by "xxxxx", as Go's URL.Redacted.
std::string RedactUrl(const std::string& url);

// A client for `base` ("scheme://host:port") honouring `http.tls_config`
// (CA file, client certificate, insecure_skip_verify), follow_redirects and
// proxy_url (httplib sends absolute-URI requests to the proxy for http and
// tunnels https through CONNECT, as Go's net/http).
std::unique_ptr<httplib::Client> NewHttpClient(const std::string& base, const HttpClientConfig& http);

// The Authorization header of `http` (basic_auth, authorization / bearer
// token, or an oauth2 token), reading credential files now so rotated
// secrets apply. oauth2 tokens are fetched with the client credentials flow
// and cached, process-wide, until 10 s before they expire; errors never
// carry the client secret.
Status AddAuthHeaders(const HttpClientConfig& http, httplib::Headers& headers);

// Reads a credentials file, trimming surrounding whitespace as Prometheus does.
Result<std::string> ReadSecretFile(const std::string& path);

}  // namespace vigil::config
