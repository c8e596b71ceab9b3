// Gunzip: zlib inflate of a gzip-encoded scrape body, bounded by the body size limit.
#include <zlib.h>

#include <array>

#include "scraper/target_scraper.h"

namespace vigil::scraper {

Result<std::string> Gunzip(std::string_view compressed, int64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("inflateInit2 failed");
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  std::array<char, 64 * 1024> buf;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return Status::InvalidArgument(std::string("gzip: invalid compressed body: ") +
                                     (zs.msg ? zs.msg : "truncated"));
    }
    out.append(buf.data(), buf.size() - zs.avail_out);
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
