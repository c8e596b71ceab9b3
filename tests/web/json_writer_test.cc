// JsonWriter and the API parameter parsers: Prometheus's number formats and
// time/duration rules.
#include "web/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "web/api_params.h"

namespace vigil::web {
namespace {

std::string Ts(int64_t ms) {
  JsonWriter w;
  w.Timestamp(ms);
  return w.str();
}

std::string Value(double v) {
  JsonWriter w;
  w.SampleValue(v);
  return w.str();
}

TEST(JsonWriterTest, TimestampsAsFloatSecondsWithoutTrailingZeros) {
  EXPECT_EQ(Ts(1700000000123), "1700000000.123");
  EXPECT_EQ(Ts(1700000000100), "1700000000.1");
  EXPECT_EQ(Ts(1700000000000), "1700000000");
  EXPECT_EQ(Ts(5), "0.005");
  EXPECT_EQ(Ts(-1500), "-1.5");
}

TEST(JsonWriterTest, SampleValuesAsGoFormatsThem) {
  EXPECT_EQ(Value(1), "\"1\"");
  EXPECT_EQ(Value(0.1), "\"0.1\"");
  EXPECT_EQ(Value(1e6), "\"1000000\"");
  EXPECT_EQ(Value(123456789.5), "\"123456789.5\"");
  EXPECT_EQ(Value(1e-7), "\"1e-07\"");
  EXPECT_EQ(Value(1e21), "\"1e+21\"");
  EXPECT_EQ(Value(-0.000123), "\"-0.000123\"");
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()), "\"+Inf\"");
  EXPECT_EQ(Value(-std::numeric_limits<double>::infinity()), "\"-Inf\"");
  EXPECT_EQ(Value(std::nan("")), "\"NaN\"");
}

TEST(JsonWriterTest, NestedContainersAndEscaping) {
  JsonWriter w;
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.String("x\"y\n\x01");
  w.EndArray();
  w.Key("b");
  w.LabelSet({{"k", "v"}, {"j", "w"}});
  w.EndObject();
  EXPECT_EQ(w.str(), R"({"a":[1,"x\"y\n\u0001"],"b":{"j":"w","k":"v"}})");
}

TEST(ApiParamsTest, TimeAsUnixSecondsOrRfc3339) {
  EXPECT_EQ(*ParseApiTime("1700000000.123"), 1700000000123);
  EXPECT_EQ(*ParseApiTime("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseApiTime("-1.5"), -1500);
  EXPECT_EQ(*ParseApiTime("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*ParseApiTime("2023-11-14T22:13:20.5Z"), 1700000000500);
  EXPECT_EQ(*ParseApiTime("2023-11-15T00:13:20+02:00"), 1700000000000);
  EXPECT_EQ(ParseApiTime("abc").status().message(), "cannot parse \"abc\" to a valid timestamp");
  EXPECT_FALSE(ParseApiTime("").ok());
  EXPECT_FALSE(ParseApiTime("2023-13-01T00:00:00Z").ok());
}

TEST(ApiParamsTest, DurationAsPrometheusDurationOrFloatSeconds) {
  EXPECT_EQ(*ParseApiDuration("15s"), 15000);
  EXPECT_EQ(*ParseApiDuration("1h30m"), 5400000);
  EXPECT_EQ(*ParseApiDuration("15"), 15000);
  EXPECT_EQ(*ParseApiDuration("0.5"), 500);
  EXPECT_EQ(*ParseApiDuration("0"), 0);
  EXPECT_EQ(ParseApiDuration("abc").status().message(), "cannot parse \"abc\" to a valid duration");
  EXPECT_EQ(ParseApiDuration("1e300").status().message(),
            "cannot parse \"1e300\" to a valid duration. It overflows int64");
}

TEST(ApiParamsTest, Rfc3339Formatting) {
  EXPECT_EQ(FormatRfc3339(1700000000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339(1700000000120), "2023-11-14T22:13:20.12Z");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace vigil::web
