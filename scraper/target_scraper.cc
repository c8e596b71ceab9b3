#include "scraper/target_scraper.h"

#include "config/http_client.h"

#include <chrono>
#include <map>
#include <tuple>

#include "base/metrics_registry.h"

namespace vigil::scraper {
namespace {

constexpr std::string_view kUserAgent = "Vigil/0.1 (Prometheus-compatible)";

std::string StatusText(int status) {
  static const std::map<int, std::string_view> kReasons = {
      {301, "Moved Permanently"}, {302, "Found"}, {400, "Bad Request"},
      {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
      {405, "Method Not Allowed"}, {406, "Not Acceptable"}, {429, "Too Many Requests"},
      {500, "Internal Server Error"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
      {504, "Gateway Timeout"}};
  auto it = kReasons.find(status);
  return std::to_string(status) + (it == kReasons.end() ? "" : " " + std::string(it->second));
}

void SetTimeout(httplib::Client& c, int64_t ms) {
  const time_t sec = static_cast<time_t>(ms / 1000);
  const time_t usec = static_cast<time_t>((ms % 1000) * 1000);
  c.set_connection_timeout(sec, usec);
  c.set_read_timeout(sec, usec);
  c.set_write_timeout(sec, usec);
}

}  // namespace

TargetScraper::TargetScraper(std::string url, const config::HttpClientConfig& http, int64_t timeout_ms,
                             int64_t body_size_limit)
    : url_(std::move(url)), http_(http), timeout_ms_(timeout_ms), body_size_limit_(body_size_limit) {
  std::tie(host_, path_) = config::SplitUrl(url_);
}

TargetScraper::~TargetScraper() = default;

Status TargetScraper::Prepare() {
  if (client_) return Status::OK();
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
  if (host_.starts_with("https://")) {
    return Status::Unavailable("Get \"" + url_ + "\": https targets need a TLS-enabled build");
  }
#endif
  client_ = config::NewHttpClient(host_, http_);
  client_->set_keep_alive(true);
  client_->set_decompress(false);  // we inflate ourselves, bounded by the size limit
  SetTimeout(*client_, timeout_ms_);
  return Status::OK();
}

Result<ScrapeResponse> TargetScraper::Scrape() {
  VIGIL_RETURN_IF_ERROR(Prepare());
  httplib::Headers headers = {
      {"Accept", std::string(kScrapeAcceptHeader)},
      {"Accept-Encoding", "gzip"},
      {"User-Agent", std::string(kUserAgent)},
      {"X-Prometheus-Scrape-Timeout-Seconds", FormatFloat(static_cast<double>(timeout_ms_) / 1000)},
  };
  VIGIL_RETURN_IF_ERROR(config::AddAuthHeaders(http_, headers));

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  PageBuffer body;
  Status aborted;  // why the receiver stopped the transfer
  const bool limit_raw = body_size_limit_ > 0;
  auto receiver = [&](const char* data, size_t len) {
    aborted = body.Append(std::string_view(data, len));
    if (!aborted.ok()) return false;
    if (limit_raw && static_cast<int64_t>(body.size()) > body_size_limit_) {
      aborted = Status::ResourceExhausted("body size limit exceeded");
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      aborted = Status::Timeout("Get \"" + url_ + "\": context deadline exceeded");
      return false;
    }
    return true;
  };
  auto res = client_->Get(path_.c_str(), headers, receiver);
  if (!res) {
    if (!aborted.ok()) return aborted;
    const auto err = res.error();
    if (err == httplib::Error::Read || err == httplib::Error::ConnectionTimeout) {
      return Status::Timeout("Get \"" + url_ + "\": context deadline exceeded");
    }
    if (err == httplib::Error::Connection) {
      const std::string addr = host_.substr(host_.find("://") + 3);
      return Status::Unavailable("Get \"" + url_ + "\": dial tcp " + addr +
                                 ": connect: connection refused");
    }
    return Status::Unavailable("Get \"" + url_ + "\": " + httplib::to_string(err));
  }
  if (res->status != 200) {
    return Status::Unavailable("server returned HTTP status " + StatusText(res->status));
  }
  ScrapeResponse out;
  out.content_type = res->get_header_value("Content-Type");
  if (res->get_header_value("Content-Encoding") == "gzip") {
    auto inflated = Gunzip(body.view(), body_size_limit_);
    if (!inflated.ok()) return inflated.status();
    out.body = std::move(*inflated);
  } else {
    out.body = std::move(body);
  }
  return out;
}

}  // namespace vigil::scraper
