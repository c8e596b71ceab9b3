#include "remote/wal_position.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace vigil::remote {

std::optional<WalPosition> PositionFile::Load() const {
  std::ifstream in(path_);
  WalPosition p;
  if (!(in >> p.segment >> p.offset) || p.offset < 0) return std::nullopt;
  return p;
}

Status PositionFile::Save(const WalPosition& position) const {
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << position.segment << ' ' << position.offset << '\n';
    if (!out.flush()) return Status::IOError("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::IOError("cannot rename " + tmp + " to " + path_);
  }
  return Status::OK();
}

void PositionFile::Remove() const {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace vigil::remote
