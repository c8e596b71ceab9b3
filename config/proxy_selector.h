// Which proxy a request goes through: Prometheus's ProxyConfig
// (prometheus/common v0.44) with the rules of Go's
// golang.org/x/net/http/httpproxy (v0.17) for no_proxy, NO_PROXY and
// HTTP_PROXY / HTTPS_PROXY. Internal header.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace vigil::config {

// The proxy variables of an environment, as Go's httpproxy.FromEnvironment
// reads them: the upper-case name first, the lower-case one when that is empty.
struct ProxyEnvironment {
  std::string http_proxy;   // HTTP_PROXY, http_proxy
  std::string https_proxy;  // HTTPS_PROXY, https_proxy
  std::string no_proxy;     // NO_PROXY, no_proxy

  static ProxyEnvironment FromProcess();
};

// A parsed no_proxy / NO_PROXY list: comma-separated entries, each an IP, a
// CIDR, a domain ("example.com" matches it and its subdomains, ".example.com"
// and "*.example.com" only subdomains), IPs and domains with an optional
// ":port", or "*" for every host. Malformed entries are skipped, as Go does.
class NoProxyList {
 public:
  explicit NoProxyList(std::string_view list);

  // Whether a request to host:port (host without brackets) goes through the
  // proxy: never for "localhost" and loopback IPs, nor for a matching entry.
  bool UseProxy(std::string_view host, std::string_view port) const;

 private:
  struct Ip {
    bool v4 = false;
    std::array<unsigned char, 16> bytes{};  // v4: the first 4
  };
  struct IpEntry {
    Ip ip;
    int prefix = -1;  // a CIDR's prefix length; -1: one address
    std::string port;
  };
  struct DomainEntry {
    std::string suffix;  // with its leading "."
    std::string port;
    bool match_self = false;  // "example.com" (not ".example.com") matches itself
  };

  static bool ParseIp(std::string_view text, Ip& ip);
  static bool Matches(const IpEntry& entry, const Ip& ip, std::string_view port);
  void AddEntry(std::string entry);

  bool all_ = false;
  std::vector<IpEntry> ips_;
  std::vector<DomainEntry> domains_;
};

// The proxy URL for requests to `base` ("scheme://host[:port]") under
// `proxy`: proxy_url unless no_proxy says direct, or the environment's proxy
// for the scheme when proxy_from_environment is on. Empty: connect directly.
std::string SelectProxy(std::string_view base, const ProxyConfig& proxy,
                        const ProxyEnvironment& env);

// An environment proxy value as Go reads it: "host:port" means
// "http://host:port"; http://, https:// and socks5:// URLs stay as they are.
std::string NormalizeEnvironmentProxy(std::string_view value);

}  // namespace vigil::config
