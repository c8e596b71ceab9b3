// Gunzip: zlib inflate of a gzip-encoded scrape body, bounded by the body size limit.
#include <zlib.h>

#include <algorithm>
#include <limits>
#include <string>

#include "scraper/target_scraper.h"

namespace vigil::scraper {
namespace {

constexpr size_t kInflateStep = 64 * 1024;  // output room asked for per inflate() call

}  // namespace

Result<PageBuffer> Gunzip(std::string_view compressed, int64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("inflateInit2 failed");
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  PageBuffer out;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    auto room = out.Spare(kInflateStep);  // inflate straight into the body, no bounce buffer
    if (!room.ok()) return room.status();
    const size_t step = std::min<size_t>(room->size(), std::numeric_limits<uInt>::max());
    zs.next_out = reinterpret_cast<Bytef*>(room->data());
    zs.avail_out = static_cast<uInt>(step);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return Status::InvalidArgument(std::string("gzip: invalid compressed body: ") +
                                     (zs.msg ? zs.msg : "truncated"));
    }
    out.Commit(step - zs.avail_out);
    if (limit > 0 && static_cast<int64_t>(out.size()) > limit) {
      return Status::ResourceExhausted("body size limit exceeded");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      return Status::InvalidArgument("gzip: unexpected EOF");
    }
  }
  return out;
}

}  // namespace vigil::scraper
