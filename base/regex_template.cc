#include "base/regex_template.h"

#include <optional>

namespace vigil {
namespace {

bool IsAsciiWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Length of the run of Unicode letters (L), decimal digits (Nd) and '_' at
// the start of `s`: Go's unicode.IsLetter / unicode.IsDigit. Bytes that are
// not valid UTF-8 end the run, as Go decodes them as U+FFFD.
size_t WordLength(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsAsciiWordChar(s[i])) ++i;
  if (i == s.size() || static_cast<unsigned char>(s[i]) < 0x80) return i;
  static const re2::RE2 kWord(R"([\pL\p{Nd}_]*)");
  re2::StringPiece run;
  kWord.Match(s, i, s.size(), re2::RE2::ANCHOR_START, &run, 1);
  return i + run.size();
}

struct Reference {
  std::string_view name;
  std::string_view rest;  // the template after the reference
};

// Go's regexp extract(): the reference after a '$', or nullopt when malformed.
std::optional<Reference> ParseReference(std::string_view s) {
  const bool brace = !s.empty() && s[0] == '{';
  if (brace) s.remove_prefix(1);
  size_t n = WordLength(s);
  if (n == 0) return std::nullopt;
  const std::string_view name = s.substr(0, n);
  if (brace) {
    if (n >= s.size() || s[n] != '}') return std::nullopt;
    ++n;
  }
  return Reference{name, s.substr(n)};
}

// The group number `name` spells, or -1: Go takes at most nine digits and no
// leading zero.
int GroupNumber(std::string_view name) {
  if (name.size() > 9 || (name.size() > 1 && name[0] == '0')) return -1;
  int num = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return -1;
    num = num * 10 + (c - '0');
  }
  return num;
}

int GroupIndex(std::string_view name, const re2::RE2& re) {
  const int num = GroupNumber(name);
  if (num >= 0) return num;
  const auto& names = re.NamedCapturingGroups();
  const auto it = names.find(std::string(name));
  return it == names.end() ? -1 : it->second;
}

}  // namespace

std::string ExpandRegexTemplate(std::string_view tmpl, const re2::RE2& re,
                                std::span<const re2::StringPiece> groups) {
  std::string out;
  for (size_t dollar = tmpl.find('$'); dollar != std::string_view::npos;
       dollar = tmpl.find('$')) {
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out += '$';
      tmpl.remove_prefix(1);
      continue;
    }
    const std::optional<Reference> ref = ParseReference(tmpl);
    if (!ref) {
      out += '$';  // malformed: the '$' is literal text
      continue;
    }
    tmpl = ref->rest;
    const int index = GroupIndex(ref->name, re);
    if (index >= 0 && static_cast<size_t>(index) < groups.size() && groups[index].data()) {
      out.append(groups[index].data(), groups[index].size());
    }
  }
  out.append(tmpl);
  return out;
}

}  // namespace vigil
