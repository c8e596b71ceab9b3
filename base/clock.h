// Clock: the injected source of time, so tests drive retention, staleness and
// scrape schedules without sleeping.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace vigil {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
};

// Wall-clock time.
class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  // A process-wide instance.
  static SystemClock* Get();
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms = 0) : now_(now_ms) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Set(int64_t now_ms) { now_.store(now_ms); }
  void Advance(int64_t delta_ms) { now_.fetch_add(delta_ms); }

 private:
  std::atomic<int64_t> now_;
};

// `ms` as "2006-01-02T15:04:05.000Z" (UTC, always three fraction digits),
// the timestamp of log lines and of alerts sent to Alertmanager.
std::string FormatRfc3339Millis(int64_t ms);

}  // namespace vigil
