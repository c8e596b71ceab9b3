#include "scraper/page_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace vigil::scraper {
namespace {

constexpr size_t kMinCapacity = 64 * 1024;  // a small body fits without a remap

}  // namespace

PageBuffer::~PageBuffer() {
  if (data_) munmap(data_, capacity_);
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_, capacity_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

Status PageBuffer::Reserve(size_t capacity) {
  if (capacity <= capacity_) return Status::OK();
  size_t grown = capacity_ ? capacity_ : kMinCapacity;
  while (grown < capacity) grown *= 2;  // doubling keeps remaps logarithmic
  void* p = data_ ? mremap(data_, capacity_, grown, MREMAP_MAYMOVE)
                  : mmap(nullptr, grown, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return Status::ResourceExhausted("cannot map " + std::to_string(grown) +
                                     " bytes for a scrape body: " + std::strerror(errno));
  }
  data_ = static_cast<char*>(p);
  capacity_ = grown;
  return Status::OK();
}

Status PageBuffer::Append(std::string_view bytes) {
  auto room = Spare(bytes.size());
  if (!room.ok()) return room.status();
  if (!bytes.empty()) std::memcpy(room->data(), bytes.data(), bytes.size());
  Commit(bytes.size());
  return Status::OK();
}

Result<std::span<char>> PageBuffer::Spare(size_t min) {
  VIGIL_RETURN_IF_ERROR(Reserve(size_ + min));
  return std::span<char>(data_ + size_, capacity_ - size_);
}

}  // namespace vigil::scraper
