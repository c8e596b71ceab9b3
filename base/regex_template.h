// Go's Regexp.Expand: the `$1` / `${name}` templates of relabel replacements
// and PromQL's label_replace().
#pragma once

#include <re2/re2.h>

#include <span>
#include <string>
#include <string_view>

namespace vigil {

// Expands `tmpl` with the submatches of `re`, as Go's regexp.Expand does:
// `$1` and `${1}` are numbered groups, `$name` and `${name}` named ones, `$$`
// is a literal `$`. A name is the longest run of Unicode letters, digits and
// underscores after the `$` (so `$1x` names the group "1x"); a number with a
// leading zero (`$01`) is a name. An unknown group, or one that did not take
// part in the match, expands to "". A malformed reference (`$` before a
// non-word character or at the end, `${` without a name and a closing `}`)
// leaves the `$` as literal text.
//
// `groups` are the submatches as RE2::Match fills them: groups[0] is the whole
// match, a group that did not take part has a null data().
std::string ExpandRegexTemplate(std::string_view tmpl, const re2::RE2& re,
                                std::span<const re2::StringPiece> groups);

}  // namespace vigil
