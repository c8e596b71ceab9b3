#include "remote/fanout_storage.h"

#include <algorithm>

#include "base/clock.h"
#include "base/logger.h"
#include "remote/sample_series.h"

namespace vigil::remote {
namespace {

constexpr int64_t kLocalStartRefreshMs = 10'000;

using Clients = std::vector<std::shared_ptr<const ReadClient>>;

// Merges series lists sorted by labels; equal labels become one series.
Result<storage::SeriesList> MergeSorted(std::vector<storage::SeriesList> lists) {
  storage::SeriesList all;
  for (auto& l : lists) all.insert(all.end(), l.begin(), l.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a->labels() < b->labels(); });
  storage::SeriesList out;
  for (size_t i = 0; i < all.size();) {
    size_t j = i + 1;
    while (j < all.size() && all[j]->labels() == all[i]->labels()) ++j;
    if (j == i + 1) {
      out.push_back(all[i]);
    } else {
      std::vector<std::vector<Sample>> samples;
      for (size_t k = i; k < j; ++k) {
        auto s = ReadAll(*all[k]);
        if (!s.ok()) return s.status();
        samples.push_back(std::move(*s));
      }
      out.push_back(std::make_shared<SampleSeries>(all[i]->labels(), MergeSamples(samples)));
    }
    i = j;
  }
  return out;
}

class FanoutQuerier final : public storage::Querier {
 public:
  FanoutQuerier(std::unique_ptr<storage::Querier> local, Clients clients,
                std::function<int64_t()> local_start)
      : local_(std::move(local)),
        clients_(std::move(clients)),
        local_start_(std::move(local_start)) {}

  Result<storage::SeriesList> Select(int64_t mint, int64_t maxt,
                                     const LabelMatchers& matchers) const override {
    auto local = local_->Select(mint, maxt, matchers);
    if (!local.ok() || clients_.empty()) return local;
    std::vector<storage::SeriesList> lists;
    lists.push_back(std::move(*local));  // first: its samples win
    const int64_t local_start = local_start_();
    for (const auto& c : clients_) {
      if (!c->Wants(mint, local_start, matchers)) continue;
      auto remote = c->Select(mint, maxt, matchers);
      if (!remote.ok()) {
        VLOG_WARN("remote_read failed; answering without it",
                  {{"url", c->config().url}, {"err", remote.status().message()}});
        continue;
      }
      lists.push_back(std::move(*remote));
    }
    if (lists.size() == 1) return std::move(lists.front());
    return MergeSorted(std::move(lists));
  }

  Result<std::vector<std::string>> LabelNames(int64_t mint, int64_t maxt,
                                              const LabelMatchers& matchers) const override {
    return local_->LabelNames(mint, maxt, matchers);
  }
  Result<std::vector<std::string>> LabelValues(std::string_view name, int64_t mint, int64_t maxt,
                                               const LabelMatchers& matchers) const override {
    return local_->LabelValues(name, mint, maxt, matchers);
  }

 private:
  std::unique_ptr<storage::Querier> local_;
  const Clients clients_;
  const std::function<int64_t()> local_start_;
};

}  // namespace

void FanoutStorage::ApplyConfig(const config::Config& config) {
  Clients next;
  for (const auto& rr : config.remote_read) {
    next.push_back(std::make_shared<const ReadClient>(rr, config.global.external_labels));
  }
  std::lock_guard lock(mu_);
  clients_ = std::move(next);
}

int64_t FanoutStorage::LocalStartMs() const {
  const int64_t now = SystemClock::Get()->NowMillis();
  if (now - local_start_checked_ms_.load() >= kLocalStartRefreshMs) {
    const storage::StorageStats st = local_->Stats(0);
    // An empty store starts now: everything older is remote's.
    local_start_ms_ = st.max_time == 0 ? now : st.min_time;
    local_start_checked_ms_ = now;
  }
  return local_start_ms_.load();
}

Result<std::unique_ptr<storage::Querier>> FanoutStorage::NewQuerier() {
  auto local = local_->NewQuerier();
  if (!local.ok()) return local.status();
  Clients clients;
  {
    std::lock_guard lock(mu_);
    clients = clients_;
  }
  if (clients.empty()) return std::move(*local);
  return std::unique_ptr<storage::Querier>(std::make_unique<FanoutQuerier>(
      std::move(*local), std::move(clients), [this] { return LocalStartMs(); }));
}

}  // namespace vigil::remote
