// QueryEscape against outputs of Go's url.QueryEscape (Go 1.19).
#include "base/url_escape.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

TEST(QueryEscapeTest, UnreservedCharactersStayAsTheyAre) {
  EXPECT_EQ(QueryEscape("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(QueryEscape(""), "");
}

TEST(QueryEscapeTest, SpaceBecomesPlusAndPlusIsEscaped) {
  EXPECT_EQ(QueryEscape("a b+c"), "a+b%2Bc");
}

TEST(QueryEscapeTest, ReservedCharactersBecomeUpperCaseHex) {
  // Go: url.QueryEscape(`sum(rate(x{job="a/b"}[5m])) > 0 & 1=1,!?#%`)
  EXPECT_EQ(QueryEscape("sum(rate(x{job=\"a/b\"}[5m])) > 0 & 1=1,!?#%"),
            "sum%28rate%28x%7Bjob%3D%22a%2Fb%22%7D%5B5m%5D%29%29+%3E+0+%26+1%3D1%2C%21%3F%23%25");
}

TEST(QueryEscapeTest, EveryByteOutsideAsciiIsEscapedByteByByte) {
  EXPECT_EQ(QueryEscape("é"), "%C3%A9");
  EXPECT_EQ(QueryEscape(std::string("\x00\x7f\xff", 3)), "%00%7F%FF");
  EXPECT_EQ(QueryEscape("\t\n"), "%09%0A");
}

TEST(QueryEscapeTest, KubernetesSelectorsAreEscapedAsClientGoDoes) {
  // client-go encodes labelSelector with url.Values.Encode (QueryEscape).
  EXPECT_EQ(QueryEscape("app=web,tier!=db"), "app%3Dweb%2Ctier%21%3Ddb");
  EXPECT_EQ(QueryEscape("env in (a, b)"), "env+in+%28a%2C+b%29");
}

}  // namespace
}  // namespace vigil
