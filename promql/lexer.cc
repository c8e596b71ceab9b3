#include "promql/lexer.h"

#include <cctype>
#include <cstdint>
#include <string>

namespace vigil::promql {
namespace {

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads `digits` hex digits at s[*i]; false when one is missing.
bool ReadHex(std::string_view s, size_t* i, int digits, uint32_t* out) {
  *out = 0;
  for (int k = 0; k < digits; ++k) {
    if (*i >= s.size() || HexValue(s[*i]) < 0) return false;
    *out = *out * 16 + static_cast<uint32_t>(HexValue(s[(*i)++]));
  }
  return true;
}

// One backslash escape starting after the backslash at s[*i].
bool UnescapeOne(std::string_view s, size_t* i, char quote, std::string* out) {
  if (*i >= s.size()) return false;
  const char c = s[(*i)++];
  uint32_t v = 0;
  switch (c) {
    case 'a': out->push_back('\a'); return true;
    case 'b': out->push_back('\b'); return true;
    case 'f': out->push_back('\f'); return true;
    case 'n': out->push_back('\n'); return true;
    case 'r': out->push_back('\r'); return true;
    case 't': out->push_back('\t'); return true;
    case 'v': out->push_back('\v'); return true;
    case '\\': out->push_back('\\'); return true;
    case 'x':
      if (!ReadHex(s, i, 2, &v)) return false;
      out->push_back(static_cast<char>(v));
      return true;
    case 'u':
      if (!ReadHex(s, i, 4, &v)) return false;
      AppendUtf8(v, out);
      return true;
    case 'U':
      if (!ReadHex(s, i, 8, &v) || v > 0x10FFFF) return false;
      AppendUtf8(v, out);
      return true;
    default: break;
  }
  if (c == quote) {
    out->push_back(c);
    return true;
  }
  if (c >= '0' && c <= '7') {  // exactly three octal digits
    v = static_cast<uint32_t>(c - '0');
    for (int k = 0; k < 2; ++k) {
      if (*i >= s.size() || s[*i] < '0' || s[*i] > '7') return false;
      v = v * 8 + static_cast<uint32_t>(s[(*i)++] - '0');
    }
    if (v > 255) return false;
    out->push_back(static_cast<char>(v));
    return true;
  }
  return false;
}

class Lexer {
 public:
  explicit Lexer(std::string_view q) : q_(q) {}

  std::vector<Token> Run() {
    std::vector<Token> tokens;
    while (true) {
      SkipSpaceAndComments();
      if (i_ >= q_.size()) break;
      Token t;
      t.pos = i_;
      if (!Next(&t) || !Nesting(t)) {
        tokens.push_back(std::move(error_));
        break;
      }
      tokens.push_back(std::move(t));
    }
    if (tokens.empty() || tokens.back().kind != TokenKind::kError) {
      if (braces_ > 0) {
        Error(q_.size(), "unexpected end of input inside braces");
        tokens.push_back(std::move(error_));
      } else if (brackets_ > 0) {
        Error(q_.size(), "unclosed left bracket");
        tokens.push_back(std::move(error_));
      } else if (parens_ > 0) {
        Error(q_.size(), "unclosed left parenthesis");
        tokens.push_back(std::move(error_));
      }
    }
    tokens.push_back(Token{TokenKind::kEnd, "", q_.size()});
    return tokens;
  }

 private:
  void SkipSpaceAndComments() {
    while (i_ < q_.size()) {
      const char c = q_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else if (c == '#') {
        while (i_ < q_.size() && q_[i_] != '\n') ++i_;
      } else {
        return;
      }
    }
  }

  // Records a lexical error; returns false so callers can `return Error(...)`.
  bool Error(size_t pos, const std::string& msg) {
    error_ = Token{TokenKind::kError, msg, pos};
    return false;
  }

  // Tracks (), [] and {} as Prometheus's lexer does, for its error messages.
  bool Nesting(const Token& t) {
    switch (t.kind) {
      case TokenKind::kLeftParen: ++parens_; return true;
      case TokenKind::kRightParen:
        if (parens_ == 0) return Error(t.pos + 1, "unexpected right parenthesis ')'");
        --parens_;
        return true;
      case TokenKind::kLeftBracket: ++brackets_; return true;
      case TokenKind::kRightBracket:
        if (brackets_ == 0) return Error(t.pos, "unexpected right bracket ']'");
        --brackets_;
        return true;
      case TokenKind::kLeftBrace:
        if (braces_ > 0) return Error(t.pos, "unexpected left brace '{' inside braces");
        ++braces_;
        return true;
      case TokenKind::kRightBrace:
        if (braces_ == 0) return Error(t.pos, "unexpected character: '}'");
        --braces_;
        return true;
      default: return true;
    }
  }

  bool Accept(char c) {
    if (i_ < q_.size() && q_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  bool Next(Token* t) {
    const char c = q_[i_];
    if (IsWordStart(c)) {
      while (i_ < q_.size() && IsWordChar(q_[i_])) ++i_;
      t->kind = TokenKind::kIdentifier;
      t->text = std::string(q_.substr(t->pos, i_ - t->pos));
      return true;
    }
    if (IsDigit(c) || (c == '.' && i_ + 1 < q_.size() && IsDigit(q_[i_ + 1]))) {
      return NumberOrDuration(t);
    }
    if (c == '"' || c == '\'' || c == '`') return QuotedString(t);
    return Punctuation(t);
  }

  // A number, unless followed by letters, in which case a duration like 1h30m.
  bool NumberOrDuration(Token* t) {
    if (ScanNumber()) {
      t->kind = TokenKind::kNumber;
      t->text = std::string(q_.substr(t->pos, i_ - t->pos));
      return true;
    }
    i_ = t->pos;
    while (i_ < q_.size() && (IsAlnum(q_[i_]) || q_[i_] == '.')) ++i_;
    t->kind = TokenKind::kDuration;
    t->text = std::string(q_.substr(t->pos, i_ - t->pos));
    for (char ch : t->text) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) {
        return Error(t->pos, "bad number or duration syntax: \"" + t->text + "\"");
      }
    }
    return true;
  }

  bool ScanNumber() {
    if (q_[i_] == '0' && i_ + 1 < q_.size() && (q_[i_ + 1] == 'x' || q_[i_ + 1] == 'X')) {
      i_ += 2;
      while (i_ < q_.size() && HexValue(q_[i_]) >= 0) ++i_;
    } else {
      while (i_ < q_.size() && IsDigit(q_[i_])) ++i_;
      if (Accept('.')) {
        while (i_ < q_.size() && IsDigit(q_[i_])) ++i_;
      }
      if (i_ < q_.size() && (q_[i_] == 'e' || q_[i_] == 'E')) {
        const size_t save = i_++;
        if (i_ < q_.size() && (q_[i_] == '+' || q_[i_] == '-')) ++i_;
        if (i_ < q_.size() && IsDigit(q_[i_])) {
          while (i_ < q_.size() && IsDigit(q_[i_])) ++i_;
        } else {
          i_ = save;
        }
      }
    }
    return i_ >= q_.size() || !IsAlnum(q_[i_]);
  }

  bool QuotedString(Token* t) {
    const char quote = q_[i_++];
    while (true) {
      if (i_ >= q_.size() || (quote != '`' && q_[i_] == '\n')) {
        return Error(t->pos, "unterminated quoted string");
      }
      const char c = q_[i_++];
      if (c == quote) break;
      if (c == '\\' && quote != '`') ++i_;
    }
    if (!UnquoteString(q_.substr(t->pos, i_ - t->pos), &t->text)) {
      return Error(t->pos, "invalid syntax");
    }
    t->kind = TokenKind::kString;
    return true;
  }

  bool Punctuation(Token* t) {
    const char c = q_[i_++];
    TokenKind k;
    switch (c) {
      case '(': k = TokenKind::kLeftParen; break;
      case ')': k = TokenKind::kRightParen; break;
      case '{': k = TokenKind::kLeftBrace; break;
      case '}': k = TokenKind::kRightBrace; break;
      case '[': k = TokenKind::kLeftBracket; break;
      case ']': k = TokenKind::kRightBracket; break;
      case ',': k = TokenKind::kComma; break;
      case ':': k = TokenKind::kColon; break;
      case '@': k = TokenKind::kAt; break;
      case '+': k = TokenKind::kAdd; break;
      case '-': k = TokenKind::kSub; break;
      case '*': k = TokenKind::kMul; break;
      case '/': k = TokenKind::kDiv; break;
      case '%': k = TokenKind::kMod; break;
      case '^': k = TokenKind::kPow; break;
      case '=':
        k = Accept('=') ? TokenKind::kEql : Accept('~') ? TokenKind::kRegexMatch : TokenKind::kAssign;
        break;
      case '!':
        if (Accept('=')) {
          k = TokenKind::kNeq;
        } else if (Accept('~')) {
          k = TokenKind::kRegexNoMatch;
        } else {
          return Error(t->pos, "unexpected character after '!': " + DescribeChar());
        }
        break;
      case '<': k = Accept('=') ? TokenKind::kLte : TokenKind::kLss; break;
      case '>': k = Accept('=') ? TokenKind::kGte : TokenKind::kGtr; break;
      default:
        --i_;
        return Error(t->pos, "unexpected character: " + DescribeChar());
    }
    t->kind = k;
    t->text = std::string(q_.substr(t->pos, i_ - t->pos));
    return true;
  }

  std::string DescribeChar() const {
    if (i_ >= q_.size()) return "end of input";
    return std::string("'") + q_[i_] + "'";
  }

  std::string_view q_;
  size_t i_ = 0;
  int parens_ = 0;
  int brackets_ = 0;
  int braces_ = 0;
  Token error_;
};

}  // namespace

std::vector<Token> Lex(std::string_view query) { return Lexer(query).Run(); }

std::string PositionPrefix(std::string_view query, size_t pos) {
  if (pos > query.size()) return "invalid position:";
  int line = 1;
  long last_break = -1;
  for (size_t i = 0; i < pos; ++i) {
    if (query[i] == '\n') {
      ++line;
      last_break = static_cast<long>(i);
    }
  }
  return std::to_string(line) + ":" + std::to_string(static_cast<long>(pos) - last_break) + ":";
}

namespace {

// Keywords print as Prometheus's item types do: <op:and>, <aggr:sum>, <by>.
std::string DescribeWord(const std::string& word) {
  std::string lowered = word;
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::string_view kOps[] = {"and", "or", "unless", "atan2"};
  static const std::string_view kAggrs[] = {"sum",    "avg",    "count", "min",     "max",
                                            "group",  "stddev", "stdvar", "topk",   "bottomk",
                                            "count_values", "quantile"};
  static const std::string_view kKeywords[] = {"bool", "by", "without", "on", "ignoring",
                                               "group_left", "group_right", "offset"};
  for (auto k : kOps) {
    if (k == lowered) return "<op:" + word + ">";
  }
  for (auto k : kAggrs) {
    if (k == lowered) return "<aggr:" + word + ">";
  }
  for (auto k : kKeywords) {
    if (k == lowered) return "<" + word + ">";
  }
  return "identifier \"" + word + "\"";
}

}  // namespace

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd: return "end of input";
    case TokenKind::kError: return token.text;
    case TokenKind::kIdentifier: return DescribeWord(token.text);
    case TokenKind::kNumber: return "number \"" + token.text + "\"";
    case TokenKind::kDuration: return "duration \"" + token.text + "\"";
    case TokenKind::kString: {
      std::string quoted = "\\\"";
      for (char c : token.text) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      return "string \"" + quoted + "\\\"\"";
    }
    case TokenKind::kAdd:
    case TokenKind::kSub:
    case TokenKind::kMul:
    case TokenKind::kDiv:
    case TokenKind::kMod:
    case TokenKind::kPow:
    case TokenKind::kEql:
    case TokenKind::kNeq:
    case TokenKind::kLss:
    case TokenKind::kLte:
    case TokenKind::kGtr:
    case TokenKind::kGte: return "<op:" + token.text + ">";
    default: return "\"" + token.text + "\"";
  }
}

bool UnquoteString(std::string_view quoted, std::string* out) {
  out->clear();
  if (quoted.size() < 2 || quoted.front() != quoted.back()) return false;
  const char quote = quoted.front();
  const std::string_view body = quoted.substr(1, quoted.size() - 2);
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) return false;
    out->assign(body);
    return true;
  }
  size_t i = 0;
  while (i < body.size()) {
    const char c = body[i++];
    if (c == quote || c == '\n') return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (!UnescapeOne(body, &i, quote, out)) return false;
  }
  return true;
}

}  // namespace vigil::promql
