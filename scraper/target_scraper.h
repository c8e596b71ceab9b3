// TargetScraper: fetches one target's exposition over HTTP the way Prometheus
// 2.42 does: Accept negotiation, gzip, X-Prometheus-Scrape-Timeout-Seconds,
// auth headers, a whole-request deadline and a body size limit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "scraper/page_buffer.h"
#include "base/status.h"

namespace httplib {
class Client;
}

namespace vigil::scraper {

// Prometheus 2.42's scrape Accept header: OpenMetrics preferred, then text 0.0.4.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

struct ScrapeResponse {
  PageBuffer body;  // decompressed
  std::string content_type;
};

class TargetScraper {
 public:
  // `url` is the full scrape URL; `body_size_limit` 0 means unlimited.
  TargetScraper(std::string url, const config::HttpClientConfig& http, int64_t timeout_ms,
                int64_t body_size_limit);
  ~TargetScraper();
  TargetScraper(const TargetScraper&) = delete;
  TargetScraper& operator=(const TargetScraper&) = delete;

  // One GET. Errors read like Prometheus's: `Get "URL": context deadline
  // exceeded`, `server returned HTTP status 500 Internal Server Error`,
  // `body size limit exceeded`.
  Result<ScrapeResponse> Scrape();

 private:
  Status Prepare();

  std::string url_;
  config::HttpClientConfig http_;
  int64_t timeout_ms_;
  int64_t body_size_limit_;
  std::string host_;  // scheme://host:port
  std::string path_;  // path?query
  std::unique_ptr<httplib::Client> client_;
};

// Inflates a gzip stream; fails with "body size limit exceeded" past `limit`
// bytes of output (0 = unlimited).
Result<PageBuffer> Gunzip(std::string_view compressed, int64_t limit);

}  // namespace vigil::scraper
