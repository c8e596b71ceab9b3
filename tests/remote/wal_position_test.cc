#include "remote/wal_position.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_dirs_and_ports.h"

namespace vigil::remote {
namespace {

TEST(PositionFile, SavedPosition_LoadsBack) {
  test_support::TempDir dir;
  const PositionFile file((dir.path() / "q.position").string());
  EXPECT_FALSE(file.Load().has_value());
  ASSERT_TRUE(file.Save({7, 12345}).ok());
  EXPECT_EQ(file.Load(), (WalPosition{7, 12345}));
  ASSERT_TRUE(file.Save({8, 8}).ok());
  EXPECT_EQ(file.Load(), (WalPosition{8, 8}));
  file.Remove();
  EXPECT_FALSE(file.Load().has_value());
}

TEST(PositionFile, GarbledFile_IsNoPosition) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "q.position").string();
  std::ofstream(path) << "not a position";
  EXPECT_FALSE(PositionFile(path).Load().has_value());
}

TEST(WalPosition, OrdersBySegmentThenOffset) {
  EXPECT_LT((WalPosition{1, 900}), (WalPosition{2, 8}));
  EXPECT_LT((WalPosition{2, 8}), (WalPosition{2, 9}));
}

}  // namespace
}  // namespace vigil::remote
