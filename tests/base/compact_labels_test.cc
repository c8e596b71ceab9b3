#include "base/compact_labels.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "base/coding.h"

namespace vigil {
namespace {

Labels NodeLike() {
  return Labels({{"__name__", "node_cpu_seconds_total"},
                 {"cpu", "3"},
                 {"mode", "idle"},
                 {"instance", "host-0042.example.internal:9100"},
                 {"job", "node"}});
}

std::vector<std::pair<std::string, std::string>> Pairs(const CompactLabels& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const LabelView& l : c) out.emplace_back(l.name, l.value);
  return out;
}

TEST(CompactLabels, IteratesTheLabelsInNameOrder) {
  const Labels ls = NodeLike();
  const CompactLabels c(ls);
  std::vector<std::pair<std::string, std::string>> want;
  for (const auto& l : ls) want.emplace_back(l.name, l.value);
  EXPECT_EQ(Pairs(c), want);
  EXPECT_EQ(c.size(), 5u);
  EXPECT_EQ(c.ToLabels(), ls);
}

TEST(CompactLabels, GetFindsPresentNamesAndReturnsEmptyForAbsentOnes) {
  const CompactLabels c(NodeLike());
  EXPECT_EQ(c.Get("mode"), "idle");
  EXPECT_EQ(c.MetricName(), "node_cpu_seconds_total");
  EXPECT_EQ(c.Get("job"), "node");
  EXPECT_EQ(c.Get("absent"), "");
  EXPECT_EQ(c.Get("zzz"), "");
  EXPECT_EQ(c.Get(""), "");
}

TEST(CompactLabels, HashEqualsLabelsHash) {
  const std::vector<Labels> sets = {
      Labels(), NodeLike(), Labels({{"a", std::string(300, 'x')}, {std::string(200, 'n'), "v"}}),
      Labels({{"a", "b\xff"}}),
      Labels({{"a",
               "\xff"
               "b"}})};
  for (const Labels& ls : sets) EXPECT_EQ(CompactLabels(ls).Hash(), ls.Hash()) << ls.ToString();
  // The separators keep label boundaries apart.
  EXPECT_NE(CompactLabels(sets[3]).Hash(), CompactLabels(sets[4]).Hash());
}

TEST(CompactLabels, LongStringsRoundTripThroughMultiByteLengths) {
  const Labels ls({{"__name__", "m"}, {"big", std::string(70000, 'v')}, {"small", "s"}});
  const CompactLabels c(ls);
  EXPECT_EQ(c.ToLabels(), ls);
  EXPECT_EQ(c.Get("big").size(), 70000u);
  EXPECT_EQ(c.Get("small"), "s");
}

TEST(CompactLabels, ComparesEqualOnlyToTheSameSet) {
  const CompactLabels c(NodeLike());
  EXPECT_TRUE(c == NodeLike());
  EXPECT_FALSE(c == LabelsBuilder(NodeLike()).Set("cpu", "4").Build());
  EXPECT_FALSE(c == LabelsBuilder(NodeLike()).Del("job").Build());
  EXPECT_FALSE(c == LabelsBuilder(NodeLike()).Set("zone", "a").Build());
  EXPECT_FALSE(c == Labels());
  EXPECT_TRUE(CompactLabels() == Labels());
  EXPECT_TRUE(c == CompactLabels(NodeLike()));
  EXPECT_FALSE(c == CompactLabels());
  // "ab"="c" and "a"="bc" hold the same bytes in a different split.
  EXPECT_FALSE(CompactLabels(Labels({{"ab", "c"}})) == CompactLabels(Labels({{"a", "bc"}})));
}

TEST(CompactLabels, PutLabelsWritesTheSameBytesAsForLabels) {
  for (const Labels& ls : {Labels(), NodeLike(), Labels({{"a", std::string(200, 'x')}})}) {
    std::string want, got = "prefix";
    PutLabels(&want, ls);
    PutLabels(&got, CompactLabels(ls));
    EXPECT_EQ(got, "prefix" + want);
  }
}

// Encodes pairs as PutLabels would, but in the order given and with each
// length `pad` bytes longer than needed (a non-shortest uvarint).
std::string RawLabels(const std::vector<std::pair<std::string, std::string>>& pairs,
                      bool pad = false) {
  std::string out;
  PutUvarint(&out, pairs.size());
  for (const auto& [name, value] : pairs) {
    for (const std::string* str : {&name, &value}) {
      if (pad) {
        out.push_back(static_cast<char>(0x80 | (str->size() & 0x7f)));
        out.push_back(static_cast<char>(str->size() >> 7));
      } else {
        PutUvarint(&out, str->size());
      }
      out += *str;
    }
  }
  return out;
}

TEST(CompactLabels, DecodeIsTheInverseOfPutLabels) {
  for (const Labels& ls : {Labels(), NodeLike(), Labels({{"a", std::string(200, 'x')}})}) {
    std::string enc;
    PutLabels(&enc, ls);
    enc += "tail";
    Decoder d(enc);
    CompactLabels got;
    ASSERT_TRUE(CompactLabels::Decode(d, &got));
    EXPECT_TRUE(got == ls);
    EXPECT_TRUE(got == CompactLabels(ls));  // byte-equal buffers
    EXPECT_EQ(got.Hash(), ls.Hash());
    EXPECT_EQ(d.rest(), "tail");
  }
}

TEST(CompactLabels, DecodeOfAnUnsortedOrUncleanEncodingMatchesDecoderLabelSet) {
  const std::vector<std::vector<std::pair<std::string, std::string>>> cases = {
      {{"job", "node"}, {"__name__", "up"}},  // unsorted
      {{"a", "1"}, {"a", "2"}, {"b", "3"}},   // duplicate name: the later wins
      {{"a", "1"}, {"b", ""}, {"c", "3"}},    // empty value: dropped
      {{"b", ""}},                            // nothing left
  };
  for (const auto& pairs : cases) {
    for (const bool pad : {false, true}) {
      const std::string enc = RawLabels(pairs, pad);
      Labels want;
      Decoder reference(enc);
      ASSERT_TRUE(reference.LabelSet(&want));
      Decoder d(enc);
      CompactLabels got;
      ASSERT_TRUE(CompactLabels::Decode(d, &got));
      EXPECT_TRUE(got == want) << want.ToString();
      EXPECT_TRUE(got == CompactLabels(want)) << want.ToString();
      EXPECT_TRUE(d.rest().empty());
    }
  }
  // Sorted and clean but with longer lengths than needed: same set, and a
  // buffer equal to the shortest one (operator== compares bytes).
  const std::string padded = RawLabels({{"__name__", "up"}, {"job", "node"}}, true);
  Decoder d(padded);
  CompactLabels got;
  ASSERT_TRUE(CompactLabels::Decode(d, &got));
  EXPECT_TRUE(got == CompactLabels(Labels({{"__name__", "up"}, {"job", "node"}})));
}

TEST(CompactLabels, DecodeOfATruncatedEncodingFails) {
  std::string enc;
  PutLabels(&enc, NodeLike());
  for (size_t cut = 0; cut < enc.size(); ++cut) {
    Decoder d(std::string_view(enc).substr(0, cut));
    CompactLabels got;
    EXPECT_FALSE(CompactLabels::Decode(d, &got)) << "cut at " << cut;
  }
}

TEST(CompactLabels, EmptySetHasNoBufferAndNoLabels) {
  const CompactLabels c{Labels()};
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.begin(), c.end());
  EXPECT_EQ(c.HeapBytes(), 0u);
  EXPECT_EQ(c.ToLabels(), Labels());
}

TEST(CompactLabels, CopiesOwnTheirBuffer) {
  auto original = std::make_unique<CompactLabels>(NodeLike());
  const CompactLabels copy(*original);
  CompactLabels assigned;
  assigned = *original;
  original.reset();
  EXPECT_EQ(copy.ToLabels(), NodeLike());
  EXPECT_EQ(assigned.ToLabels(), NodeLike());
}

TEST(CompactLabels, UsesOneSmallBufferForANodeSeries) {
  const CompactLabels c(NodeLike());
  size_t strings = 0;
  for (const auto& l : NodeLike()) strings += l.name.size() + l.value.size();
  // 4 bytes of size, one length byte per string.
  EXPECT_EQ(c.HeapBytes(), 4 + strings + 10);
  EXPECT_EQ(sizeof(CompactLabels), sizeof(void*));
}

TEST(CompactLabels, MatchesAllAgreesWithLabels) {
  const Labels ls = NodeLike();
  const CompactLabels c(ls);
  const std::vector<LabelMatchers> cases = {
      {*LabelMatcher::Make(MatchType::kEqual, "job", "node")},
      {*LabelMatcher::Make(MatchType::kEqual, "job", "other")},
      {*LabelMatcher::Make(MatchType::kRegexMatch, "mode", "id.*"),
       *LabelMatcher::Make(MatchType::kNotEqual, "cpu", "3")},
      {*LabelMatcher::Make(MatchType::kEqual, "absent", "")},
      {*LabelMatcher::Make(MatchType::kRegexNoMatch, "absent", ".+")},
  };
  for (const auto& ms : cases) EXPECT_EQ(MatchesAll(ms, c), MatchesAll(ms, ls));
  EXPECT_TRUE(MatchesAll(cases[0], c));
  EXPECT_FALSE(MatchesAll(cases[1], c));
}

}  // namespace
}  // namespace vigil
