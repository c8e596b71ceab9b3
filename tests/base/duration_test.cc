#include "base/duration.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(ParseDuration, AcceptsCombinedUnits) {
  EXPECT_EQ(*ParseDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseDuration("30d"), 30LL * 86400000);
  EXPECT_EQ(*ParseDuration("100ms"), 100);
  EXPECT_EQ(*ParseDuration("1y"), 365LL * 86400000);
  EXPECT_EQ(*ParseDuration("0"), 0);
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"", "1", "h", "1m1h", "1.5h", "-1s", "1x", "5m5m"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("not a valid duration string"), std::string::npos);
  }
}

TEST(FormatDuration, MatchesPrometheus) {
  EXPECT_EQ(FormatDuration(5400000), "1h30m");
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(30LL * 86400000), "4w2d");
}

TEST(ParseByteSize, UsesBase2Units) {
  EXPECT_EQ(*ParseByteSize("512MB"), 512LL << 20);
  EXPECT_EQ(*ParseByteSize("10GB"), 10LL << 30);
  EXPECT_EQ(*ParseByteSize("1KiB"), 1024);
  EXPECT_EQ(*ParseByteSize("100B"), 100);
  EXPECT_FALSE(ParseByteSize("10").ok());
  EXPECT_FALSE(ParseByteSize("GB").ok());
  EXPECT_FALSE(ParseByteSize("10XB").ok());
}

}  // namespace
}  // namespace vigil
