#include "base/matcher.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(LabelMatcher, RegexIsFullyAnchored) {
  auto m = LabelMatcher::Make(MatchType::kRegexMatch, "job", "api|web");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->Matches(std::string_view("api")));
  EXPECT_FALSE(m->Matches(std::string_view("api2")));
  EXPECT_FALSE(m->Matches(std::string_view("xapi")));
}

TEST(LabelMatcher, AbsentLabelMatchesEmptyString) {
  auto eq = LabelMatcher::Make(MatchType::kEqual, "foo", "");
  auto ne = LabelMatcher::Make(MatchType::kNotEqual, "foo", "");
  Labels without({{"a", "1"}});
  Labels with({{"foo", "x"}});
  EXPECT_TRUE(eq->Matches(without));
  EXPECT_FALSE(eq->Matches(with));
  EXPECT_FALSE(ne->Matches(without));
  EXPECT_TRUE(ne->Matches(with));
}

TEST(LabelMatcher, BadRegexIsAnError) {
  auto m = LabelMatcher::Make(MatchType::kRegexMatch, "a", "(");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
