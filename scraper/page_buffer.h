// PageBuffer: a growable byte buffer in its own anonymous memory mapping, for
// scrape bodies. Large short-lived malloc blocks stay in the allocator's
// arenas once freed (glibc raises its mmap threshold after the first such
// free), and with one arena per busy scrape thread that kept about 240 bytes
// per scraped series resident (bench loop, 20 targets x 5000 series); a
// mapping goes back to the kernel when the buffer dies, and grows by
// mremap without copying.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "base/status.h"

namespace vigil::scraper {

class PageBuffer {
 public:
  PageBuffer() = default;
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  // Appends `bytes`, growing the mapping as needed.
  [[nodiscard]] Status Append(std::string_view bytes);
  // Unused room at the end, at least `min` bytes (grows the mapping). Write
  // into it, then Commit() how much was written.
  Result<std::span<char>> Spare(size_t min);
  // Counts `n` bytes written into Spare() as content.
  void Commit(size_t n) { size_ += n; }

  std::string_view view() const { return {data_, size_}; }
  size_t size() const { return size_; }

 private:
  [[nodiscard]] Status Reserve(size_t capacity);

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // bytes mapped at data_
};

}  // namespace vigil::scraper
