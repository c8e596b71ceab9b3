#include "scraper/page_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace vigil::scraper {
namespace {

TEST(PageBuffer, Append_KeepsContentAcrossGrowth) {
  PageBuffer buf;
  std::string expected;
  for (int i = 0; i < 20000; ++i) {  // ~250 KB: several remaps past the first 64 KB
    const std::string line = "series_" + std::to_string(i) + " 1\n";
    ASSERT_TRUE(buf.Append(line).ok());
    expected += line;
  }
  EXPECT_EQ(buf.size(), expected.size());
  EXPECT_EQ(buf.view(), expected);
}

TEST(PageBuffer, Spare_CountsOnlyCommittedBytes) {
  PageBuffer buf;
  ASSERT_TRUE(buf.Append("ab").ok());
  auto room = buf.Spare(100'000);
  ASSERT_TRUE(room.ok());
  EXPECT_GE(room->size(), 100'000u);
  std::memcpy(room->data(), "cde", 3);
  buf.Commit(3);
  EXPECT_EQ(buf.view(), "abcde");
}

TEST(PageBuffer, Move_TransfersTheBytes) {
  PageBuffer a;
  ASSERT_TRUE(a.Append("payload").ok());
  PageBuffer b = std::move(a);
  EXPECT_EQ(b.view(), "payload");
  PageBuffer c;
  ASSERT_TRUE(c.Append("old").ok());
  c = std::move(b);
  EXPECT_EQ(c.view(), "payload");
}

TEST(PageBuffer, Empty_HasNoBytes) {
  const PageBuffer buf;
  EXPECT_EQ(buf.size(), 0u);
  EXPECT_TRUE(buf.view().empty());
}

}  // namespace
}  // namespace vigil::scraper
