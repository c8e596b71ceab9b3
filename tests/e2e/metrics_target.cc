#include "tests/e2e/metrics_target.h"

#include <httplib.h>

namespace vigil::e2e {

MetricsTarget::MetricsTarget(std::string body, std::string path)
    : server_(std::make_unique<httplib::Server>()), body_(std::move(body)) {
  server_->Get(path, [this](const httplib::Request&, httplib::Response& res) {
    ++scrapes_;
    if (int64_t d = delay_ms_.load(); d > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(d));
    }
    std::lock_guard lock(mu_);
    res.set_content(body_, content_type_);
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsTarget::~MetricsTarget() {
  server_->stop();
  thread_.join();
}

void MetricsTarget::SetBody(std::string body) {
  std::lock_guard lock(mu_);
  body_ = std::move(body);
}

void MetricsTarget::SetContentType(std::string content_type) {
  std::lock_guard lock(mu_);
  content_type_ = std::move(content_type);
}

}  // namespace vigil::e2e
