// ExpandVariables: the $var / ${var} expansion of Go's os.Expand, for
// --enable-feature=expand-external-labels.
#include <string>
#include <string_view>

#include "config/config.h"

namespace vigil::config {
namespace {

// The one-character names the shell gives a meaning ($$, $1, $?, ...).
bool IsShellSpecial(char c) {
  return std::string_view("*#$@!?-0123456789").find(c) != std::string_view::npos;
}

bool IsNameChar(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct ShellName {
  std::string_view name;  // empty: no name
  size_t width = 0;       // bytes consumed after the '$'
};

// The variable name at the start of `s` (the text after a '$'), as Go's getShellName.
ShellName ReadShellName(std::string_view s) {
  if (s.front() == '{') {
    if (s.size() > 2 && IsShellSpecial(s[1]) && s[2] == '}') return {s.substr(1, 1), 3};
    const size_t close = s.find('}', 1);
    if (close == std::string_view::npos) return {{}, 1};  // bad syntax: drop "${"
    if (close == 1) return {{}, 2};                       // bad syntax: drop "${}"
    return {s.substr(1, close - 1), close + 1};
  }
  if (IsShellSpecial(s.front())) return {s.substr(0, 1), 1};
  size_t i = 0;
  while (i < s.size() && IsNameChar(s[i])) ++i;
  return {s.substr(0, i), i};
}

}  // namespace

std::string ExpandVariables(std::string_view text,
                            const std::function<std::string(const std::string&)>& lookup) {
  std::string out;
  size_t copied = 0;  // text before this is in `out`
  for (size_t j = 0; j < text.size(); ++j) {
    if (text[j] != '$' || j + 1 >= text.size()) continue;
    out.append(text.substr(copied, j - copied));
    const ShellName name = ReadShellName(text.substr(j + 1));
    if (!name.name.empty()) {
      out += lookup(std::string(name.name));
    } else if (name.width == 0) {
      out += '$';  // "$" not followed by a name stays
    }
    j += name.width;
    copied = j + 1;
  }
  return out + std::string(text.substr(std::min(copied, text.size())));
}

}  // namespace vigil::config
