// PeriodicThread: a thread that runs a function every `interval_ms` of real
// time until stopped; Stop() wakes it at once (the Tsdb's maintenance thread).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace vigil::storage {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  ~PeriodicThread() { Stop(); }

  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts calling `tick` every `interval_ms` (the first call one interval
  // from now). Call at most once.
  void Start(int64_t interval_ms, std::function<void()> tick) {
    thread_ = std::thread([this, interval_ms, tick = std::move(tick)] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(interval_ms), [&] { return stopping_; })) {
        lock.unlock();
        tick();
        lock.lock();
      }
    });
  }

  // Waits for a running tick to finish, then ends the thread. Idempotent.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // mu_
  std::thread thread_;
};

}  // namespace vigil::storage
