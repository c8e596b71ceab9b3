#include "remote/write_queue.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "base/logger.h"
#include "config/http_client.h"
#include "config/relabel.h"
#include "remote/remote_protocol.h"
#include "storage/wal/wal.h"
#include "storage/wal/wal_record.h"

namespace vigil::remote {
namespace {

constexpr uint64_t kNoPending = std::numeric_limits<uint64_t>::max();
constexpr int64_t kSaveIntervalMs = 1000;
constexpr int64_t kBacklogLogIntervalMs = 10'000;
constexpr auto kPushWait = std::chrono::milliseconds(100);  // then look for a reshard request
constexpr double kShardToleranceFraction = 0.3;

std::string RemoteName(const config::RemoteWriteConfig& c) {
  if (!c.name.empty()) return c.name;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(Labels{{"url", c.url}}.Hash()));
  return std::string(hex, 6);
}

// How a send attempt ended.
enum class SendOutcome { kSent, kRetry, kDrop };

SendOutcome Classify(const httplib::Result& r, bool retry_on_429) {
  if (!r) return SendOutcome::kRetry;
  const int status = r->status;
  if (status / 100 == 2) return SendOutcome::kSent;
  if (status / 100 == 5) return SendOutcome::kRetry;
  if (status == 429 && retry_on_429) return SendOutcome::kRetry;
  return SendOutcome::kDrop;
}

std::string DescribeFailure(const httplib::Result& r) {
  if (!r) return "HTTP request failed (" + httplib::to_string(r.error()) + ")";
  return "server returned HTTP status " + std::to_string(r->status) + ": " + r->body.substr(0, 256);
}

// Labels `labels` gets on the way out: external labels it lacks, then
// write_relabel_configs; nullptr when relabeling drops it.
std::shared_ptr<const Labels> OutgoingLabels(const Labels& labels, const WriteQueueOptions& o) {
  LabelsBuilder b(labels);
  for (const auto& l : o.external_labels) {
    if (!labels.Has(l.name)) b.Set(l.name, l.value);
  }
  auto relabeled = config::Relabel(b.Build(), o.config.write_relabel_configs);
  if (!relabeled || relabeled->empty()) return nullptr;
  return std::make_shared<const Labels>(std::move(*relabeled));
}

}  // namespace

// One shard: a bounded FIFO of samples and the thread that sends them in
// batches. A series always maps to the same shard, so its samples leave in
// the order they were read.
class WriteQueue::Shard {
 public:
  enum class PushResult { kPushed, kFull, kStopping };

  explicit Shard(WriteQueue* queue) : queue_(queue), thread_([this] { Run(); }) {}
  ~Shard() { Stop(); }

  // Takes `p` unless the shard still holds `capacity` samples after `wait`.
  PushResult Push(Pending& p, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu_);
    const auto capacity =
        static_cast<size_t>(std::max(queue_->options_.config.queue_config.capacity,
                                     queue_->options_.config.queue_config.max_samples_per_send));
    if (!space_.wait_for(lock, wait, [&] { return stopping_ || pending_.size() < capacity; })) {
      return PushResult::kFull;
    }
    if (stopping_) return PushResult::kStopping;
    pending_.push_back(std::move(p));
    ++queue_->metrics_.samples_pending;
    if (pending_.size() >= BatchSize()) ready_.notify_one();
    return PushResult::kPushed;
  }

  // Sends what the shard holds without waiting for full batches, and returns
  // once all of it is acknowledged (true) or the shard stops (false). No
  // Push() may come after.
  bool Drain() {
    std::unique_lock lock(mu_);
    flushing_ = true;
    ready_.notify_all();
    space_.wait(lock,
                [&] { return stopping_ || (pending_.empty() && inflight_seq_ == kNoPending); });
    return !stopping_;
  }

  // The read order of the oldest sample not yet acknowledged; kNoPending if none.
  uint64_t OldestUnacknowledged() const {
    std::lock_guard lock(mu_);
    if (inflight_seq_ != kNoPending) return inflight_seq_;
    return pending_.empty() ? kNoPending : pending_.front().seq;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      if (client_) client_->stop();
    }
    ready_.notify_all();
    space_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  size_t BatchSize() const {
    return static_cast<size_t>(
        std::max<int64_t>(1, queue_->options_.config.queue_config.max_samples_per_send));
  }

  void Run() {
    const auto deadline =
        std::chrono::milliseconds(queue_->options_.config.queue_config.batch_send_deadline_ms);
    for (;;) {
      std::vector<Pending> batch;
      {
        std::unique_lock lock(mu_);
        ready_.wait_for(lock, deadline, [&] {
          return stopping_ || pending_.size() >= BatchSize() || (flushing_ && !pending_.empty());
        });
        if (stopping_) return;
        if (pending_.empty()) continue;
        const size_t n = std::min(pending_.size(), BatchSize());
        batch.assign(std::make_move_iterator(pending_.begin()),
                     std::make_move_iterator(pending_.begin() + static_cast<long>(n)));
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(n));
        inflight_seq_ = batch.front().seq;
      }
      space_.notify_all();
      const auto start = std::chrono::steady_clock::now();
      const bool done = SendWithRetries(batch);
      QueueMetrics& m = queue_->metrics_;
      m.send_micros += std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      std::lock_guard lock(mu_);
      if (!done) return;  // stopping: the batch stays unacknowledged
      m.last_send_ms = queue_->options_.clock->NowMillis();
      inflight_seq_ = kNoPending;
      m.samples_pending -= static_cast<int64_t>(batch.size());
      space_.notify_all();  // Drain() waits for this
    }
  }

  static std::string EncodeBatch(const std::vector<Pending>& batch) {
    WriteRequest request;
    const Labels* current = nullptr;
    for (const auto& p : batch) {
      if (current != p.labels.get()) {
        current = p.labels.get();
        request.timeseries.push_back({current->vec(), {}});
      }
      request.timeseries.back().samples.push_back({p.v, p.t});
    }
    return SnappyEncode(EncodeWriteRequest(request));
  }

  httplib::Headers Headers() const {
    const auto& c = queue_->options_.config;
    httplib::Headers h = {{"Content-Encoding", "snappy"},
                          {"User-Agent", queue_->options_.user_agent},
                          {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
    for (const auto& [name, value] : c.headers) h.emplace(name, value);
    if (Status st = config::AddAuthHeaders(c.http, h); !st.ok()) {
      VLOG_ERROR("remote write credentials unreadable",
                 {{"remote_name", queue_->remote_name_}, {"err", st.message()}});
    }
    return h;
  }

  httplib::Result Post(const std::string& body) {
    const auto& c = queue_->options_.config;
    const auto [base, path] = config::SplitUrl(c.url);
    {
      std::lock_guard lock(mu_);
      if (stopping_) return httplib::Result(nullptr, httplib::Error::Canceled);
      if (!client_) {
        client_ = config::NewHttpClient(base, c.http);
        const auto timeout = std::chrono::milliseconds(c.remote_timeout_ms);
        client_->set_connection_timeout(timeout);
        client_->set_read_timeout(timeout);
        client_->set_write_timeout(timeout);
      }
    }
    return client_->Post(path, Headers(), body, "application/x-protobuf");
  }

  // Sends until acknowledged or refused for good; false when stopping.
  bool SendWithRetries(const std::vector<Pending>& batch) {
    const std::string body = EncodeBatch(batch);
    const auto& q = queue_->options_.config.queue_config;
    QueueMetrics& m = queue_->metrics_;
    int64_t backoff = q.min_backoff_ms;
    for (;;) {
      const auto start = std::chrono::steady_clock::now();
      const httplib::Result r = Post(body);
      const auto took = std::chrono::steady_clock::now() - start;
      m.sent_batch_duration.Observe(std::chrono::duration<double>(took).count());
      switch (Classify(r, q.retry_on_http_429)) {
        case SendOutcome::kSent:
          m.last_success_ms = queue_->options_.clock->NowMillis();
          m.samples_sent += batch.size();
          m.bytes_sent += body.size();
          NoteSent(batch);
          return true;
        case SendOutcome::kDrop:
          NoteFailure(r);
          m.samples_failed += batch.size();
          VLOG_ERROR("non-recoverable error sending to remote storage; batch dropped",
                     {{"remote_name", queue_->remote_name_},
                      {"url", queue_->options_.config.url},
                      {"count", std::to_string(batch.size())},
                      {"err", DescribeFailure(r)}});
          return true;
        case SendOutcome::kRetry:
          break;
      }
      if (IsStopping()) return false;
      NoteFailure(r);
      m.samples_retried += batch.size();
      VLOG_WARN("failed to send batch to remote storage, retrying",
                {{"remote_name", queue_->remote_name_},
                 {"err", DescribeFailure(r)},
                 {"backoff_ms", std::to_string(backoff)}});
      if (!WaitBackoff(backoff)) return false;
      backoff = std::min(backoff * 2, std::max(q.max_backoff_ms, q.min_backoff_ms));
      std::lock_guard lock(mu_);
      client_.reset();  // a fresh connection after a failure
    }
  }

  void NoteFailure(const httplib::Result& r) {
    queue_->metrics_.last_error.Set(DescribeFailure(r), queue_->options_.clock->NowMillis());
  }

  void NoteSent(const std::vector<Pending>& batch) {
    int64_t highest = 0;
    for (const auto& p : batch) highest = std::max(highest, p.t);
    int64_t seen = queue_->metrics_.highest_sent_ms.load();
    while (highest > seen &&
           !queue_->metrics_.highest_sent_ms.compare_exchange_weak(seen, highest)) {
    }
  }

  bool IsStopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
  }

  bool WaitBackoff(int64_t ms) {
    std::unique_lock lock(mu_);
    return !ready_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  }

  WriteQueue* const queue_;
  mutable std::mutex mu_;
  std::condition_variable ready_;  // a batch is full, or stopping
  std::condition_variable space_;  // room in pending_, or stopping
  std::deque<Pending> pending_;
  uint64_t inflight_seq_ = kNoPending;
  bool flushing_ = false;  // Drain(): send partial batches at once
  bool stopping_ = false;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;  // last: starts after the members it uses
};

WriteQueue::WriteQueue(WriteQueueOptions options)
    : options_(std::move(options)), remote_name_(RemoteName(options_.config)) {
  const int64_t n = std::max<int64_t>(1, options_.config.queue_config.min_shards);
  for (int64_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(this));
  num_shards_ = n;
  metrics_.shards = n;
  metrics_.shards_desired = static_cast<double>(n);
  reader_ = std::thread([this] { ReadLoop(); });
  updater_ = std::thread([this] { UpdateShardsLoop(); });
}

WriteQueue::~WriteQueue() { Stop(); }

void WriteQueue::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  {
    std::lock_guard lock(mu_);  // the reader replaces shards_ under mu_
    for (auto& s : shards_) s->Stop();
  }
  if (reader_.joinable()) reader_.join();
  if (updater_.joinable()) updater_.join();
}

std::optional<double> QueueSnapshot::LagSeconds() const {
  if (highest_sent_ms == 0) {
    if (highest_read_ms == 0) return 0.0;
    return std::nullopt;
  }
  return static_cast<double>(std::max<int64_t>(0, highest_read_ms - highest_sent_ms)) / 1000.0;
}

QueueSnapshot WriteQueue::Snapshot() const {
  const auto& q = options_.config.queue_config;
  const LastSendError::Entry error = metrics_.last_error.Get();
  QueueSnapshot s;
  s.remote_name = remote_name_;
  s.url = config::RedactUrl(options_.config.url);
  s.shards = metrics_.shards.load();
  s.min_shards = q.min_shards;
  s.max_shards = q.max_shards;
  s.shards_desired = metrics_.shards_desired.load();
  s.samples_in = metrics_.samples_in.load();
  s.samples_sent = metrics_.samples_sent.load();
  s.samples_failed = metrics_.samples_failed.load();
  s.samples_retried = metrics_.samples_retried.load();
  s.samples_dropped = metrics_.samples_dropped.load();
  s.samples_backlog_dropped = metrics_.samples_backlog_dropped.load();
  s.samples_pending = metrics_.samples_pending.load();
  s.highest_read_ms = metrics_.highest_read_ms.load();
  s.highest_sent_ms = metrics_.highest_sent_ms.load();
  s.last_error = error.message;
  s.last_error_ms = error.at_ms;
  s.last_success_ms = metrics_.last_success_ms.load();
  s.saved_position = saved_position();
  return s;
}

WalPosition WriteQueue::saved_position() const {
  std::lock_guard lock(mu_);
  return saved_;
}

bool WriteQueue::Sleep(int64_t ms) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
}

void WriteQueue::ReadLoop() {
  if (auto p = options_.position.Load()) {
    position_ = *p;
    VLOG_INFO("Remote write resumes from its saved WAL position",
              {{"remote_name", remote_name_},
               {"segment", std::to_string(p->segment)},
               {"offset", std::to_string(p->offset)}});
  } else if (auto segments = storage::ListWalSegments(options_.wal_dir);
             segments.ok() && !segments->empty()) {
    // A new queue starts at the end of the WAL, as Prometheus does.
    position_ = {segments->back(), 0};
    (void)storage::TailWalSegment(
        storage::WalSegmentPath(options_.wal_dir, segments->back()), 0,
        [this](std::string_view, int64_t end) { position_.offset = end; });
  }
  {
    std::lock_guard lock(mu_);
    saved_ = position_;
  }
  while (ReadAvailable()) {
    if (!aborted_) reader_behind_ = false;  // at the end of the WAL
    if (!ApplyRequestedReshard()) break;
    SaveAcknowledgedPosition();
    if (!Sleep(options_.poll_interval_ms)) break;
  }
}

bool WriteQueue::ReadAvailable() {
  for (;;) {
    auto segments = storage::ListWalSegments(options_.wal_dir);
    if (!segments.ok() || segments->empty()) return true;
    if (position_.segment < segments->front()) {
      VLOG_WARN(
          "WAL segments this remote write queue had not read are gone; samples in them are lost",
          {{"remote_name", remote_name_},
           {"from_segment", std::to_string(position_.segment)},
           {"to_segment", std::to_string(segments->front())}});
      position_ = {segments->front(), 0};
    }
    const bool more_segments = position_.segment < segments->back();
    const uint32_t segment = position_.segment;
    auto end =
        storage::TailWalSegment(storage::WalSegmentPath(options_.wal_dir, segment),
                                position_.offset, [&](std::string_view payload, int64_t end) {
                                  HandleCommit(payload, {segment, end});
                                });
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
    }
    if (end.ok()) position_.offset = *end;
    if (!more_segments || aborted_) return true;
    if (!end.ok()) {  // unreadable, and the WAL has moved on: skip it, loudly
      VLOG_ERROR("remote write skips a WAL segment it cannot read",
                 {{"remote_name", remote_name_}, {"err", end.status().message()}});
    }
    // The writer moved on before we listed: this segment is complete.
    auto next = std::upper_bound(segments->begin(), segments->end(), segment);
    position_ = {*next, 0};
    commits_.emplace_back(next_seq_, position_);
    SaveAcknowledgedPosition();
  }
}

void WriteQueue::HandleCommit(std::string_view payload, WalPosition end) {
  if (aborted_) return;
  auto commit = storage::DecodeWalCommit(payload);
  if (!commit.ok()) {
    VLOG_ERROR("undecodable WAL commit skipped by remote write",
               {{"remote_name", remote_name_}, {"err", commit.status().message()}});
    return;
  }
  for (const auto& s : commit->series) series_[s.ref] = OutgoingLabels(s.labels, options_);
  const int64_t oldest_kept = options_.clock->NowMillis() - options_.backlog_ms;
  for (const auto& s : commit->samples) {
    ++metrics_.samples_in;
    int64_t seen = metrics_.highest_read_ms.load();
    if (s.t > seen) metrics_.highest_read_ms = s.t;
    if (options_.backlog_ms > 0 && s.t < oldest_kept) {
      NoteBacklogDrop(s.t);
      continue;
    }
    auto labels = SeriesToSend(s.ref);
    if (!labels) {
      ++metrics_.samples_dropped;
      continue;
    }
    if (!Enqueue(s.ref, {std::move(labels), s.t, s.v, next_seq_++})) {
      aborted_ = true;  // stopping: nothing from here on may count as read
      return;
    }
  }
  commits_.emplace_back(next_seq_, end);
  position_ = end;
  if (options_.clock->NowMillis() - last_save_ms_ >= kSaveIntervalMs) SaveAcknowledgedPosition();
}

std::shared_ptr<const Labels> WriteQueue::SeriesToSend(SeriesRef ref) {
  if (auto it = series_.find(ref); it != series_.end()) return it->second;
  std::shared_ptr<const Labels> out;
  if (options_.store != nullptr) {
    if (auto labels = options_.store->SeriesLabels(ref); labels.ok()) {
      out = OutgoingLabels(*labels, options_);
    }
  }
  series_[ref] = out;
  return out;
}

bool WriteQueue::Enqueue(SeriesRef ref, Pending p) {
  std::chrono::milliseconds wait{0};
  for (;;) {
    if (!ApplyRequestedReshard()) return false;
    const size_t shard = std::hash<SeriesRef>{}(ref) % shards_.size();
    switch (shards_[shard]->Push(p, wait)) {
      case Shard::PushResult::kPushed:
        return true;
      case Shard::PushResult::kStopping:
        return false;
      case Shard::PushResult::kFull:  // the shards hold back the reader
        reader_behind_ = true;
        wait = kPushWait;
        break;
    }
  }
}

bool WriteQueue::ApplyRequestedReshard() {
  const int64_t n = reshard_to_.load();
  if (n == 0) return true;
  // Everything read so far leaves before the new shards start: a series
  // never has samples in two shards at once, so its order holds.
  for (auto& s : shards_) {
    if (!s->Drain()) return false;
  }
  std::vector<std::unique_ptr<Shard>> old;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    old.swap(shards_);
    for (int64_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>(this));
  }
  old.clear();  // idle: stopped and joined
  metrics_.shards = n;
  reshard_to_ = 0;
  SaveAcknowledgedPosition();  // all of it is acknowledged now
  return true;
}

void WriteQueue::SaveAcknowledgedPosition() {
  if (aborted_) return;
  last_save_ms_ = options_.clock->NowMillis();
  uint64_t oldest = kNoPending;
  for (const auto& s : shards_) oldest = std::min(oldest, s->OldestUnacknowledged());
  std::optional<WalPosition> done;
  while (!commits_.empty() && commits_.front().first <= oldest) {
    done = commits_.front().second;
    commits_.pop_front();
  }
  if (!done) return;
  if (Status st = options_.position.Save(*done); !st.ok()) {
    VLOG_ERROR("cannot save remote write position", {{"err", st.message()}});
    return;
  }
  std::lock_guard lock(mu_);
  saved_ = *done;
}

void WriteQueue::UpdateShardsLoop() {
  while (Sleep(options_.shard_update_interval_ms)) {
    const int64_t desired = DesiredShards();
    if (desired == num_shards_) continue;
    // Prometheus: no reshard unless a send ended within 2 x batch_send_deadline
    // (a failing remote would only make the new shards fail too).
    const int64_t now = options_.clock->NowMillis();
    const int64_t last_send = metrics_.last_send_ms.load();
    if (last_send < now - 2 * options_.config.queue_config.batch_send_deadline_ms) {
      VLOG_WARN("Skipping resharding, last successful send was beyond threshold",
                {{"remote_name", remote_name_}, {"last_send_ms", std::to_string(last_send)}});
      continue;
    }
    int64_t none = 0;
    if (!reshard_to_.compare_exchange_strong(none, desired)) {
      VLOG_INFO("Currently resharding, skipping.", {{"remote_name", remote_name_}});
      continue;
    }
    VLOG_INFO("Remote storage resharding", {{"remote_name", remote_name_},
                                            {"from", std::to_string(num_shards_)},
                                            {"to", std::to_string(desired)}});
    num_shards_ = desired;
  }
}

int64_t WriteQueue::DesiredShards() {
  const int64_t now = options_.clock->NowMillis();
  const Counts counts{metrics_.samples_in.load(),
                      metrics_.samples_sent.load() + metrics_.samples_failed.load(),
                      metrics_.samples_dropped.load() + metrics_.samples_backlog_dropped.load(),
                      metrics_.send_micros.load()};
  const double seconds =
      static_cast<double>(now - (last_tick_ms_ == 0 ? now : last_tick_ms_)) / 1000.0;
  if (last_tick_ms_ != 0) {
    in_rate_.Tick(static_cast<double>(counts.in - last_counts_.in), seconds);
    out_rate_.Tick(static_cast<double>(counts.out - last_counts_.out), seconds);
    dropped_rate_.Tick(static_cast<double>(counts.dropped - last_counts_.dropped), seconds);
    send_rate_.Tick(static_cast<double>(counts.send_micros - last_counts_.send_micros) / 1e6,
                    seconds);
  }
  last_tick_ms_ = now;
  last_counts_ = counts;

  const double out = out_rate_.rate();
  if (out <= 0) return num_shards_;
  const double in = in_rate_.rate();
  const double kept = out / (dropped_rate_.rate() + out);
  // Prometheus compares the newest sample received with the newest sent. The
  // newest sample Vigil received is in the WAL; while the reader waits for
  // room in a shard it lags behind, and the WAL head is taken to be now.
  int64_t newest = metrics_.highest_read_ms.load();
  if (reader_behind_) newest = std::max(newest, now);
  const double delay =
      std::max(0.0, static_cast<double>(newest - metrics_.highest_sent_ms.load()) / 1000.0);
  // Time per sample x (samples in per second + 5 % of the backlog per second).
  const double time_per_sample = send_rate_.rate() / out;
  const double desired = time_per_sample * (in * kept + 0.05 * delay * in * kept);
  metrics_.shards_desired = desired;

  const double current = static_cast<double>(num_shards_);
  const double rounded = std::ceil(desired);
  if (rounded >= current * (1 - kShardToleranceFraction) &&
      rounded <= current * (1 + kShardToleranceFraction)) {
    return num_shards_;
  }
  const auto n = static_cast<int64_t>(rounded);
  if (n < num_shards_ && delay > 10.0) return num_shards_;  // too far behind to shrink
  const auto& q = options_.config.queue_config;
  const int64_t lo = std::max<int64_t>(1, q.min_shards);
  return std::clamp(n, lo, std::max(lo, q.max_shards));
}

void WriteQueue::NoteBacklogDrop(int64_t t) {
  (void)t;
  ++metrics_.samples_backlog_dropped;
  ++backlog_dropped_unlogged_;
  const int64_t now = options_.clock->NowMillis();
  if (now - last_backlog_log_ms_ < kBacklogLogIntervalMs) return;
  VLOG_WARN("remote write gave up samples older than the backlog window",
            {{"remote_name", remote_name_},
             {"samples", std::to_string(backlog_dropped_unlogged_)},
             {"backlog", std::to_string(options_.backlog_ms / 1000) + "s"}});
  backlog_dropped_unlogged_ = 0;
  last_backlog_log_ms_ = now;
}

}  // namespace vigil::remote
