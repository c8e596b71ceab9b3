// The PromQL lexer: turns query text into tokens. Words (identifiers and
// keywords alike) are returned as kIdentifier; the parser decides from the
// context whether `sum`, `by` or `offset` is a keyword or a label name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace vigil::promql {

enum class TokenKind {
  kEnd,         // end of input
  kError,       // a lexical error; text holds the message
  kIdentifier,  // [a-zA-Z_][a-zA-Z0-9_:]*
  kNumber,      // 1, 1.5e3, 0x1f, .5
  kDuration,    // 5m, 1h30m
  kString,      // "...", '...', `...` (text holds the unquoted value)
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kColon,
  kAt,
  kAssign,      // =
  kEql,         // ==
  kNeq,         // !=
  kRegexMatch,  // =~
  kRegexNoMatch,  // !~
  kLss,
  kLte,
  kGtr,
  kGte,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // raw text; unquoted value for strings
  size_t pos = 0;    // byte offset in the query
};

// Tokenizes the whole query. A lexical error becomes a kError token (followed
// by kEnd) so that the parser reports earlier syntax errors first, as
// Prometheus's streaming lexer does.
std::vector<Token> Lex(std::string_view query);

// How error messages name a token: `identifier "foo"`, `"("`, `end of input`.
std::string DescribeToken(const Token& token);

// "line:col:" for a byte offset, as Prometheus prefixes parse errors.
std::string PositionPrefix(std::string_view query, size_t pos);

// Go's strconv.Unquote for the three PromQL quote styles; false on bad escapes.
bool UnquoteString(std::string_view quoted, std::string* out);

}  // namespace vigil::promql
