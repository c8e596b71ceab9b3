#include "config/proxy_selector.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace vigil::config {
namespace {

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string EnvAny(const char* upper, const char* lower) {
  std::string v = Getenv(upper);
  return v.empty() ? Getenv(lower) : v;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

struct HostPort {
  std::string host, port;
};

// Go's net.SplitHostPort: "host:port" or "[v6]:port"; nullopt without a port
// or with a bare IPv6 address.
std::optional<HostPort> SplitHostPort(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = s.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // too many colons
  }
  return HostPort{std::string(host), std::string(s.substr(colon + 1))};
}

}  // namespace

ProxyEnvironment ProxyEnvironment::FromProcess() {
  return {EnvAny("HTTP_PROXY", "http_proxy"), EnvAny("HTTPS_PROXY", "https_proxy"),
          EnvAny("NO_PROXY", "no_proxy")};
}

NoProxyList::NoProxyList(std::string_view list) {
  while (!all_) {
    const size_t comma = list.find(',');
    AddEntry(Lower(Trim(list.substr(0, comma))));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool NoProxyList::ParseIp(std::string_view text, Ip& ip) {
  const std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) {
    ip.v4 = true;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return false;
  // An IPv4-mapped address is that IPv4 address, as Go's To4.
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::memset(ip.bytes.data() + 4, 0, 12);
    ip.v4 = true;
  }
  return true;
}

void NoProxyList::AddEntry(std::string entry) {
  if (entry.empty()) return;
  if (entry == "*") {
    all_ = true;
    return;
  }
  if (const size_t slash = entry.find('/'); slash != std::string::npos) {
    IpEntry cidr;
    const std::string_view bits = std::string_view(entry).substr(slash + 1);
    const auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), cidr.prefix);
    if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty() ||
        !ParseIp(std::string_view(entry).substr(0, slash), cidr.ip) || cidr.prefix < 0 ||
        cidr.prefix > (cidr.ip.v4 ? 32 : 128)) {
      return;  // not a CIDR; Go then fails the other forms too ('/' in a host)
    }
    ips_.push_back(cidr);
    return;
  }
  std::string host = entry, port;
  if (auto hp = SplitHostPort(entry)) {
    if (hp->host.empty()) return;
    host = hp->host;
    port = hp->port;
  }
  if (Ip ip; ParseIp(host, ip)) {
    ips_.push_back({ip, -1, port});
    return;
  }
  if (host.starts_with("*.")) host.erase(0, 1);
  DomainEntry domain{host, port, false};
  if (host.front() != '.') {
    domain.match_self = true;
    domain.suffix = "." + host;
  }
  domains_.push_back(domain);
}

bool NoProxyList::Matches(const IpEntry& entry, const Ip& ip, std::string_view port) {
  if (entry.ip.v4 != ip.v4) return false;
  if (entry.prefix < 0) {
    return entry.ip.bytes == ip.bytes && (entry.port.empty() || entry.port == port);
  }
  const int full = entry.prefix / 8, rest = entry.prefix % 8;
  if (std::memcmp(entry.ip.bytes.data(), ip.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  const unsigned mask = (0xffu << (8 - rest)) & 0xffu;
  return (entry.ip.bytes[full] & mask) == (ip.bytes[full] & mask);
}

bool NoProxyList::UseProxy(std::string_view host_in, std::string_view port) const {
  if (host_in == "localhost") return false;
  Ip ip;
  const bool is_ip = ParseIp(host_in, ip);
  if (is_ip && ((ip.v4 && ip.bytes[0] == 127) ||
                (!ip.v4 && ip.bytes == std::array<unsigned char, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                                     0, 0, 0, 0, 0, 1}))) {
    return false;  // loopback
  }
  if (all_) return false;
  const std::string host = Lower(Trim(host_in));
  if (is_ip) {
    for (const IpEntry& e : ips_) {
      if (Matches(e, ip, port)) return false;
    }
  }
  for (const DomainEntry& d : domains_) {
    const bool suffix = host.ends_with(d.suffix) || (d.match_self && host == d.suffix.substr(1));
    if (suffix && (d.port.empty() || d.port == port)) return false;
  }
  return true;
}

std::string NormalizeEnvironmentProxy(std::string_view value) {
  for (std::string_view scheme : {"http://", "https://", "socks5://"}) {
    if (value.starts_with(scheme)) return std::string(value);
  }
  return value.empty() ? "" : "http://" + std::string(value);
}

std::string SelectProxy(std::string_view base, const ProxyConfig& proxy,
                        const ProxyEnvironment& env) {
  const size_t sep = base.find("://");
  const std::string_view scheme = base.substr(0, sep);
  const std::string_view authority = sep == std::string_view::npos ? base : base.substr(sep + 3);
  std::string host(authority), port;
  if (auto hp = SplitHostPort(authority)) {
    host = hp->host;
    port = hp->port;
  } else if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (port.empty()) port = scheme == "https" ? "443" : "80";

  if (proxy.proxy_from_environment) {
    const std::string& chosen = scheme == "https"  ? env.https_proxy
                                : scheme == "http" ? env.http_proxy
                                                   : std::string();
    if (chosen.empty() || !NoProxyList(env.no_proxy).UseProxy(host, port)) return "";
    return NormalizeEnvironmentProxy(chosen);
  }
  if (proxy.proxy_url.empty()) return "";
  // Without no_proxy Prometheus uses http.ProxyURL: every request, loopback too.
  if (proxy.no_proxy.empty()) return proxy.proxy_url;
  return NoProxyList(proxy.no_proxy).UseProxy(host, port) ? proxy.proxy_url : "";
}

}  // namespace vigil::config
