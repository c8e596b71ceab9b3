#include "scraper/scrape_loop.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include <unistd.h>

#include "scraper/sample_labels.h"
#include "base/logger.h"

namespace vigil::scraper {
namespace {

constexpr std::string_view kReportNames[] = {
    "up", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added"};

// Append errors that skip one sample instead of failing the scrape, as Prometheus.
bool IsSoftAppendError(StatusCode code) {
  return code == StatusCode::kOutOfOrder || code == StatusCode::kDuplicateSample ||
         code == StatusCode::kOutOfBounds;
}

std::string Truncate(std::string_view s, size_t n) { return std::string(s.substr(0, n)); }

// The URL as seen from other machines: a loopback host becomes this host's
// name, as Prometheus's globalURL.
std::string GlobalUrl(const std::string& url) {
  const size_t host_start = url.find("://");
  if (host_start == std::string::npos) return url;
  const size_t begin = host_start + 3;
  const size_t colon = url.find_first_of(":/", begin);
  const std::string host = url.substr(begin, colon - begin);
  if (host != "localhost" && !host.starts_with("127.") && host != "[::1]") return url;
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return url;
  return url.substr(0, begin) + name + (colon == std::string::npos ? "" : url.substr(colon));
}

}  // namespace

ScrapeLoop::ScrapeLoop(storage::Storage* db, std::shared_ptr<const config::ScrapeConfig> config,
                       Target target, const Clock* clock)
    : db_(db),
      config_(std::move(config)),
      target_(std::move(target)),
      clock_(clock),
      scraper_(target_.url(), config_->http, target_.timeout_ms(), config_->body_size_limit) {
  for (std::string_view name : kReportNames) {
    LabelsBuilder lb(target_.labels());
    lb.Set(kMetricNameLabel, name);
    report_series_.emplace_back(lb.Build(), 0);
  }
  status_.discovered_labels = target_.discovered_labels();
  status_.labels = target_.labels();
  status_.scrape_pool = config_->job_name;
  status_.scrape_url = target_.url();
  status_.global_url = GlobalUrl(target_.url());
  status_.scrape_interval_ms = target_.interval_ms();
  status_.scrape_timeout_ms = target_.timeout_ms();
}

ScrapeLoop::~ScrapeLoop() { Stop(false); }

int64_t ScrapeLoop::PhaseMs() const {
  return static_cast<int64_t>(target_.hash() % static_cast<uint64_t>(target_.interval_ms()));
}

void ScrapeLoop::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Run(); });
}

void ScrapeLoop::Stop(bool mark_stale) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!mark_stale || !scraped_) return;
  auto app = db_->NewAppender();
  const int64_t t = std::max(clock_->NowMillis(), last_append_ms_ + 1);
  cache_.BeginScrape();
  EndCacheScrape(*app, t, false);
  AppendReportStale(*app, t);
  const vigil::Status st = app->Commit();
  if (!st.ok()) VLOG_WARN("Writing end-of-run staleness markers failed", {{"err", st.message()}});
}

void ScrapeLoop::Run() {
  const int64_t interval = target_.interval_ms();
  int64_t now = clock_->NowMillis();
  int64_t next = now - now % interval + PhaseMs();
  if (next < now) next += interval;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_ && clock_->NowMillis() < next) {
        const int64_t wait = std::min<int64_t>(next - clock_->NowMillis(), 1000);
        cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait, 1)));
      }
      if (stop_) return;
    }
    ScrapeOnce(clock_->NowMillis());
    next += interval;
    now = clock_->NowMillis();
    if (next <= now) next += ((now - next) / interval + 1) * interval;
  }
}

void ScrapeLoop::ScrapeOnce(int64_t t_ms) {
  const auto start = std::chrono::steady_clock::now();
  auto response = scraper_.Scrape();
  scraped_ = true;
  cache_.BeginScrape();
  AppendStats stats;
  std::map<std::string, FamilyMetadata> metadata;
  auto app = db_->NewAppender();
  vigil::Status error = response.status();
  if (error.ok()) {
    error = AppendBody(*app, *response, t_ms, stats, metadata);
    if (!error.ok()) {
      app->Rollback();
      app = db_->NewAppender();
    }
  }
  EndCacheScrape(*app, t_ms, error.ok());
  const double duration =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  AppendReport(*app, t_ms, duration, error.ok(), stats);
  const vigil::Status commit = app->Commit();
  if (error.ok() && !commit.ok()) error = commit;
  last_append_ms_ = t_ms;
  RecordOutcome(t_ms, duration, error, error.ok() ? &metadata : nullptr);
}

vigil::Status ScrapeLoop::AppendBody(storage::Appender& app, const ScrapeResponse& response,
                                     int64_t t_ms, AppendStats& stats,
                                     std::map<std::string, FamilyMetadata>& metadata) {
  ExpositionParser parser(response.body.view(), FormatFromContentType(response.content_type));
  bool over_limit = false;
  while (true) {
    // The cache's guess is a checked series text: a line starting with it
    // needs no scan.
    auto more = parser.NextSeries(cache_.Guess());
    if (!more.ok()) return more.status();
    if (!*more) break;
    ScrapeCache::Entry* entry = cache_.Find(parser.series());
    // Only a series text new to the cache has its label syntax checked: a
    // cached one passed the check before. Checked before the line counts, as
    // a syntax error fails Next() at the line.
    if (!entry) VIGIL_RETURN_IF_ERROR(parser.CheckLabels());
    ++stats.total;
    Labels fresh_labels;  // resolved now when the series is new to the cache
    if (!entry) {
      auto added = AddToCache(parser);
      if (!added.ok()) return added.status();
      std::tie(entry, fresh_labels) = std::move(*added);
      if (!entry->dropped()) ++stats.series_added;
    }
    const bool first = cache_.Hold(*entry);
    if (entry->dropped()) continue;
    // Counted even when its labels repeat within the scrape and only the first
    // sample is stored: Prometheus counts (and limits) what it hands to
    // storage, which then rejects the repeat.
    ++stats.added;
    if (config_->sample_limit > 0 && stats.added > config_->sample_limit) {
      over_limit = true;  // keep counting, as Prometheus reports the real figure
      continue;
    }
    const bool own_ts = config_->honor_timestamps && parser.timestamp_ms().has_value();
    // A repeat at the scrape's time is one storage would reject; with its own
    // timestamp it goes to storage, which keeps it when that is newer.
    if (!first && !own_ts) continue;
    const int64_t t = own_ts ? *parser.timestamp_ms() : t_ms;
    auto ref = fresh_labels.empty() ? AppendCached(app, parser.series(), *entry, t, parser.value())
                                    : app.Append(0, fresh_labels, t, parser.value());
    if (!ref.ok()) {
      if (IsSoftAppendError(ref.status().code())) continue;
      return ref.status();
    }
    entry->set_ref(*ref);
    // Prometheus 2.48: a sample with its own timestamp gets no staleness
    // marker unless track_timestamps_staleness asks for one.
    if (first) entry->set_staleness_tracked(!own_ts || config_->track_timestamps_staleness);
  }
  if (over_limit) return vigil::Status::ResourceExhausted("sample limit exceeded");
  metadata = parser.TakeMetadata();
  return vigil::Status::OK();
}

Result<std::pair<ScrapeCache::Entry*, Labels>> ScrapeLoop::AddToCache(
    const ExpositionParser& parser) {
  auto exposed = parser.exposed_labels();
  if (!exposed.ok()) return exposed.status();
  auto stored = StoredLabels(*exposed);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return std::pair<ScrapeCache::Entry*, Labels>(cache_.Add(parser.series(), std::nullopt),
                                                  Labels());
  }
  ScrapeCache::Entry* entry = cache_.Add(parser.series(), (*stored)->Hash());
  return std::pair<ScrapeCache::Entry*, Labels>(entry, std::move(**stored));
}

Result<std::optional<Labels>> ScrapeLoop::StoredLabels(std::span<const Label> exposed) const {
  const Labels with_target = ApplyTargetLabels(exposed, target_.labels(), config_->honor_labels);
  std::optional<Labels> relabeled = config::Relabel(with_target, config_->metric_relabel_configs);
  if (!relabeled || relabeled->empty()) return std::optional<Labels>();
  if (!relabeled->Has(kMetricNameLabel)) {
    return vigil::Status::InvalidArgument("missing metric name (__name__ label)");
  }
  VIGIL_RETURN_IF_ERROR(CheckLabelLimits(*relabeled));
  return relabeled;
}

Result<vigil::SeriesRef> ScrapeLoop::AppendCached(storage::Appender& app, std::string_view raw,
                                                    ScrapeCache::Entry& e, int64_t t,
                                                    double v) {
  if (e.ref() != 0) {
    // Empty labels: a store that knows the ref never reads them.
    auto by_ref = app.Append(e.ref(), Labels(), t, v);
    if (by_ref.ok() || IsSoftAppendError(by_ref.status().code())) return by_ref;
  }
  auto exposed = ExpositionParser::SeriesLabels(raw);
  if (!exposed.ok()) return exposed.status();
  auto stored = StoredLabels(*exposed);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return vigil::Status::Internal("cached series no longer resolves");
  return app.Append(0, **stored, t, v);
}

vigil::Status ScrapeLoop::CheckLabelLimits(const Labels& labels) const {
  const std::string metric = Truncate(labels.MetricName(), 50);
  if (config_->label_limit > 0 && static_cast<int64_t>(labels.size()) > config_->label_limit) {
    return vigil::Status::ResourceExhausted(
        "label_limit exceeded (metric: " + metric + ", number of labels: " +
        std::to_string(labels.size()) + ", limit: " + std::to_string(config_->label_limit) + ")");
  }
  for (const Label& l : labels) {
    const auto name_len = static_cast<int64_t>(l.name.size());
    if (config_->label_name_length_limit > 0 && name_len > config_->label_name_length_limit) {
      return vigil::Status::ResourceExhausted(
          "label_name_length_limit exceeded (metric: " + metric + ", label name: " +
          Truncate(l.name, 50) + ", length: " + std::to_string(name_len) +
          ", limit: " + std::to_string(config_->label_name_length_limit) + ")");
    }
    const auto value_len = static_cast<int64_t>(l.value.size());
    if (config_->label_value_length_limit > 0 && value_len > config_->label_value_length_limit) {
      return vigil::Status::ResourceExhausted(
          "label_value_length_limit exceeded (metric: " + metric + ", label name: " +
          Truncate(l.name, 50) + ", value: \"" + Truncate(l.value, 50) + "\", length: " +
          std::to_string(value_len) + ", limit: " +
          std::to_string(config_->label_value_length_limit) + ")");
    }
  }
  return vigil::Status::OK();
}

void ScrapeLoop::EndCacheScrape(storage::Appender& app, int64_t t_ms, bool scrape_ok) {
  cache_.EndScrape(scrape_ok, [&](std::string_view series, ScrapeCache::Entry& e) {
    auto ref = AppendCached(app, series, e, t_ms, vigil::StaleNaN());
    if (ref.ok()) e.set_ref(*ref);
  });
}

void ScrapeLoop::AppendReport(storage::Appender& app, int64_t t_ms, double duration_s, bool up,
                              const AppendStats& stats) {
  const double values[] = {up ? 1.0 : 0.0, duration_s, static_cast<double>(stats.total),
                           static_cast<double>(stats.added),
                           static_cast<double>(stats.series_added)};
  for (size_t i = 0; i < report_series_.size(); ++i) {
    auto& [labels, ref] = report_series_[i];
    auto r = app.Append(ref, labels, t_ms, values[i]);
    if (r.ok()) ref = *r;
  }
}

void ScrapeLoop::AppendReportStale(storage::Appender& app, int64_t t_ms) {
  for (auto& [labels, ref] : report_series_) {
    auto r = app.Append(ref, labels, t_ms, vigil::StaleNaN());
    if (r.ok()) ref = *r;
  }
}

void ScrapeLoop::RecordOutcome(int64_t start_ms, double duration_s, const vigil::Status& error,
                               std::map<std::string, FamilyMetadata>* metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.health = error.ok() ? "up" : "down";
  status_.last_error = error.ok() ? "" : error.message();
  status_.last_scrape_ms = start_ms;
  status_.last_scrape_duration_seconds = duration_s;
  if (metadata) metadata_ = std::move(*metadata);
}

TargetStatus ScrapeLoop::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

std::vector<MetricMetadata> ScrapeLoop::Metadata() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MetricMetadata> out;
  out.reserve(metadata_.size());
  for (const auto& [name, md] : metadata_) out.push_back({name, md.type, md.help, md.unit});
  return out;
}

}  // namespace vigil::scraper
