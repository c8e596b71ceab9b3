#include "config/http_client.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "config/connect_relay.h"
#include "config/proxy_selector.h"

namespace vigil::config {
namespace {

struct ProxyParts {
  std::string host;
  int port = 0;
  std::string user, password;
};

// "http://[user:password@]host[:port]" (the loader checked the shape; port 80
// when an environment proxy names none, as Go).
ProxyParts ParseProxyUrl(const std::string& url) {
  ProxyParts p;
  std::string authority = SplitUrl(url).first.substr(std::string("http://").size());
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority.erase(0, at + 1);
    const size_t colon = userinfo.find(':');
    p.user = httplib::detail::decode_url(userinfo.substr(0, colon), false);
    if (colon != std::string::npos) {
      p.password = httplib::detail::decode_url(userinfo.substr(colon + 1), false);
    }
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) != std::string::npos) {
    colon = std::string::npos;  // "[v6]" without a port
  }
  p.host = authority.substr(0, colon);
  if (p.host.size() >= 2 && p.host.front() == '[') p.host = p.host.substr(1, p.host.size() - 2);
  p.port = 80;
  if (colon != std::string::npos) {
    const char* begin = authority.data() + colon + 1;
    std::from_chars(begin, authority.data() + authority.size(), p.port);
  }
  return p;
}

// The headers of an https tunnel's CONNECT as Go's Transport writes them:
// proxy_connect_header, with Proxy-Authorization from the proxy URL's user
// info replacing any given there.
ConnectRelay::HeaderList ConnectHeaders(const ProxyParts& proxy, const ProxyConfig& config) {
  ConnectRelay::HeaderList headers;
  for (const auto& [name, values] : config.proxy_connect_header) {
    if (!proxy.user.empty() && ::strcasecmp(name.c_str(), "Proxy-Authorization") == 0) {
      continue;
    }
    for (const std::string& value : values) headers.emplace_back(name, value);
  }
  if (!proxy.user.empty()) {
    headers.push_back(httplib::make_basic_authentication_header(proxy.user, proxy.password, true));
  }
  return headers;
}

// Sends the client's requests through `proxy`. https tunnels with headers to
// add go through a ConnectRelay, which writes the CONNECT itself.
void UseProxy(httplib::Client& client, const std::string& base, const ProxyParts& proxy,
              const ProxyConfig& config) {
  const bool tunnel = base.starts_with("https://");
  if (tunnel && (!config.proxy_connect_header.empty() || !proxy.user.empty())) {
    if (ConnectRelay* relay =
            ConnectRelay::For(proxy.host, proxy.port, ConnectHeaders(proxy, config))) {
      client.set_proxy("127.0.0.1", relay->port());
      return;
    }
  }
  client.set_proxy(proxy.host.c_str(), proxy.port);
  if (!proxy.user.empty()) client.set_proxy_basic_auth(proxy.user.c_str(), proxy.password.c_str());
}

using SteadyClock = std::chrono::steady_clock;

struct CachedToken {
  std::string header;  // "Bearer <token>"
  std::optional<SteadyClock::time_point> expiry;
};

// Go's oauth2 refreshes a token this long before it expires.
constexpr auto kExpiryDelta = std::chrono::seconds(10);

std::string QueryEscape(const std::string& s) { return httplib::detail::encode_query_param(s); }

std::string TokenCacheKey(const OAuth2& o, const std::string& secret) {
  std::string key = o.token_url + '\0' + o.client_id + '\0' + secret + '\0';
  for (const auto& scope : o.scopes) key += scope + ' ';
  for (const auto& [k, v] : o.endpoint_params) key += '\0' + k + '=' + v;
  return key;
}

// The token type as Go's oauth2 Token.Type() writes it.
std::string TokenType(const std::string& type) {
  if (type.empty()) return "Bearer";
  std::string lower = type;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "bearer") return "Bearer";
  if (lower == "mac") return "MAC";
  if (lower == "basic") return "Basic";
  return type;
}

Result<CachedToken> FetchToken(const OAuth2& o, const std::string& secret) {
  const auto [base, path] = SplitUrl(o.token_url);
  HttpClientConfig http;
  http.tls_config = o.tls_config;
  http.proxy = o.proxy;
  auto client = NewHttpClient(base, http);
  client->set_connection_timeout(10);
  client->set_read_timeout(10);
  httplib::Params form = {{"grant_type", "client_credentials"}};
  std::string scopes;
  for (const auto& scope : o.scopes) scopes += (scopes.empty() ? "" : " ") + scope;
  if (!scopes.empty()) form.emplace("scope", scopes);
  for (const auto& [k, v] : o.endpoint_params) form.emplace(k, v);
  // As Go's oauth2 with AuthStyleAutoDetect: credentials in a Basic header
  // first, in the form if the server refuses that.
  httplib::Headers headers = {
      httplib::make_basic_authentication_header(QueryEscape(o.client_id), QueryEscape(secret))};
  auto res = client->Post(path, headers, form);
  if (res && (res->status == 400 || res->status == 401)) {
    form.emplace("client_id", o.client_id);
    form.emplace("client_secret", secret);
    res = client->Post(path, form);
  }
  if (!res) {
    return Status::IOError("oauth2: cannot fetch token: Post \"" + RedactUrl(o.token_url) +
                           "\": " + httplib::to_string(res.error()));
  }
  if (res->status < 200 || res->status > 299) {
    return Status::IOError("oauth2: cannot fetch token: " + std::to_string(res->status) +
                           "\nResponse: " + res->body);
  }
  CachedToken token;
  try {
    const YAML::Node reply = YAML::Load(res->body);  // JSON is YAML
    const std::string access = reply["access_token"] ? reply["access_token"].as<std::string>() : "";
    if (access.empty()) return Status::IOError("oauth2: server response missing access_token");
    const std::string type = reply["token_type"] ? reply["token_type"].as<std::string>() : "";
    token.header = TokenType(type) + " " + access;
    if (reply["expires_in"]) {
      const int64_t seconds = reply["expires_in"].as<int64_t>();
      if (seconds > 0) token.expiry = SteadyClock::now() + std::chrono::seconds(seconds);
    }
  } catch (const YAML::Exception&) {
    return Status::IOError("oauth2: cannot parse token response: " + res->body);
  }
  return token;
}

// The Authorization header value for `o`, from the cache while the token is fresh.
Result<std::string> OAuth2Authorization(const OAuth2& o) {
  std::string secret = o.client_secret;
  if (!o.client_secret_file.empty()) {
    auto s = ReadSecretFile(o.client_secret_file);
    if (!s.ok())
      return Status::IOError("unable to read oauth2 client secret file " + o.client_secret_file);
    secret = *s;
  }
  static std::mutex mu;  // one fetch at a time; others wait for its token
  static auto* cache = new std::map<std::string, CachedToken>();
  std::lock_guard<std::mutex> lock(mu);
  const std::string key = TokenCacheKey(o, secret);
  if (const auto it = cache->find(key); it != cache->end()) {
    if (!it->second.expiry || SteadyClock::now() + kExpiryDelta < *it->second.expiry) {
      return it->second.header;
    }
  }
  auto token = FetchToken(o, secret);
  if (!token.ok()) return token.status();
  (*cache)[key] = *token;
  return token->header;
}

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
// The X509 certificates of a PEM text.
std::vector<X509*> ReadPemCertificates(const std::string& pem) {
  std::vector<X509*> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.push_back(cert);
  ERR_clear_error();  // the end of the text reads as an error
  BIO_free(bio);
  return certs;
}

// tls_config's inline `ca`, `cert`/`key` and min_version, on an https client's context.
void ApplyTlsExtras(SSL_CTX* ctx, const TlsConfig& tls, httplib::Client& client) {
  static const std::map<std::string, int> kVersions = {{"TLS10", TLS1_VERSION},
                                                       {"TLS11", TLS1_1_VERSION},
                                                       {"TLS12", TLS1_2_VERSION},
                                                       {"TLS13", TLS1_3_VERSION}};
  if (const auto it = kVersions.find(tls.min_version); it != kVersions.end()) {
    SSL_CTX_set_min_proto_version(ctx, it->second);
  }
  if (!tls.ca.empty()) {
    X509_STORE* store = X509_STORE_new();
    for (X509* cert : ReadPemCertificates(tls.ca)) {
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
    }
    client.set_ca_cert_store(store);  // the client owns it now
  }
  if (!tls.cert.empty() && !tls.key.empty()) {
    const auto certs = ReadPemCertificates(tls.cert);
    BIO* bio = BIO_new_mem_buf(tls.key.data(), static_cast<int>(tls.key.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!certs.empty() && key != nullptr) {
      SSL_CTX_use_certificate(ctx, certs[0]);
      SSL_CTX_use_PrivateKey(ctx, key);
    }
    for (X509* cert : certs) X509_free(cert);
    EVP_PKEY_free(key);
    ERR_clear_error();
  }
  // server_name: the certificate is verified for that name rather than the
  // target's host. httplib checks the URL's host itself, so OpenSSL verifies
  // instead: chain and name, during the handshake.
  if (!tls.server_name.empty() && !tls.insecure_skip_verify) {
    client.enable_server_certificate_verification(false);
    if (!tls.ca_file.empty()) {
      SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr);
    } else if (tls.ca.empty()) {
      SSL_CTX_set_default_verify_paths(ctx);
    }
    X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx), tls.server_name.c_str(), 0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
}
#endif

}  // namespace

std::string RedactUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t host_end = url.find('/', scheme + 3);
  const size_t at = url.rfind('@', host_end == std::string::npos ? std::string::npos : host_end);
  if (at == std::string::npos || at < scheme) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "xxxxx" + url.substr(at);
}

std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const size_t path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  if (path_start == std::string::npos) return {url, "/"};
  return {url.substr(0, path_start), url.substr(path_start)};
}

std::unique_ptr<httplib::Client> NewHttpClient(const std::string& base,
                                               const HttpClientConfig& http) {
  const TlsConfig& tls = http.tls_config;
  std::unique_ptr<httplib::Client> client;
  if (!tls.cert_file.empty() && !tls.key_file.empty()) {
    client = std::make_unique<httplib::Client>(base, tls.cert_file, tls.key_file);
  } else {
    client = std::make_unique<httplib::Client>(base);
  }
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (!tls.ca_file.empty()) client->set_ca_cert_path(tls.ca_file.c_str());
  client->enable_server_certificate_verification(!tls.insecure_skip_verify);
  if (SSL_CTX* ctx = client->ssl_context(); ctx != nullptr) ApplyTlsExtras(ctx, tls, *client);
#endif
  client->set_follow_location(http.follow_redirects);
  const std::string proxy_url = SelectProxy(base, http.proxy, ProxyEnvironment::FromProcess());
  if (!proxy_url.empty()) UseProxy(*client, base, ParseProxyUrl(proxy_url), http.proxy);
  return client;
}

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("unable to read file " + path);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && blank(text.back())) text.pop_back();
  size_t i = 0;
  while (i < text.size() && blank(text[i])) ++i;
  return text.substr(i);
}

Status AddAuthHeaders(const HttpClientConfig& http, httplib::Headers& headers) {
  if (http.basic_auth) {
    std::string password = http.basic_auth->password;
    if (!http.basic_auth->password_file.empty()) {
      auto p = ReadSecretFile(http.basic_auth->password_file);
      if (!p.ok()) return p.status();
      password = *p;
    }
    headers.insert(httplib::make_basic_authentication_header(http.basic_auth->username, password));
  }
  if (http.authorization) {
    std::string credentials = http.authorization->credentials;
    if (!http.authorization->credentials_file.empty()) {
      auto c = ReadSecretFile(http.authorization->credentials_file);
      if (!c.ok()) return c.status();
      credentials = *c;
    }
    headers.emplace("Authorization", http.authorization->type + " " + credentials);
  }
  if (http.oauth2) {
    auto header = OAuth2Authorization(*http.oauth2);
    if (!header.ok()) return header.status();
    headers.emplace("Authorization", *header);
  }
  return Status::OK();
}

}  // namespace vigil::config
