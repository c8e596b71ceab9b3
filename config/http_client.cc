#include "config/http_client.h"

#include <fstream>
#include <sstream>

namespace vigil::config {

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
#endif
  client->set_follow_location(http.follow_redirects);
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
  return Status::OK();
}

}  // namespace vigil::config
