#include "rules/alert_template.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "rules/go_format.h"
#include "rules/template_functions.h"

namespace vigil::rules {
namespace {

// ---- Lexing (Go's text/template/parse/lex.go) ----

enum class Tok {
  kSpace,
  kString,
  kRawString,
  kChar,
  kNumber,
  kBool,
  kNil,
  kIdentifier,
  kKeyword,
  kVariable,
  kField,
  kDot,
  kPipe,
  kLeftParen,
  kRightParen,
  kDeclare,
  kAssign,
  kOther,
};

struct Token {
  Tok kind;
  std::string_view text;
};

// Literal text, or the tokens of one {{ }} action (none for a comment).
struct Piece {
  std::string_view text;
  bool is_action = false;
  std::vector<Token> tokens;
  int line = 1;
};

class TemplateError {
 public:
  TemplateError(std::string_view name, int line, std::string what)
      : status_(Status::InvalidArgument("template: " + std::string(name) + ":" +
                                        std::to_string(line) + ": " + what)) {}
  Status status() const { return status_; }

 private:
  Status status_;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Go's isAlphaNumeric; every byte of a multi-byte rune counts as a letter.
bool IsAlphaNumeric(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c == '_' || std::isalnum(u) || u >= 0x80;
}

constexpr std::string_view kKeywords[] = {"block", "break", "continue", "define",   "else",
                                          "end",   "if",    "range",    "template", "with"};

bool IsKeyword(std::string_view word) {
  return std::find(std::begin(kKeywords), std::end(kKeywords), word) != std::end(kKeywords);
}

// Go's %#U of the rune at the start of `s`.
std::string DescribeRune(std::string_view s) {
  char32_t r = static_cast<unsigned char>(s[0]);
  std::string text(1, s[0]);
  if (r >= 0x80) {
    const size_t n = (r & 0xE0) == 0xC0 ? 2 : (r & 0xF0) == 0xE0 ? 3 : (r & 0xF8) == 0xF0 ? 4 : 1;
    text = std::string(s.substr(0, std::min(n, s.size())));
    r = n == 1 ? r : r & (0xFF >> (n + 1));
    for (size_t i = 1; i < text.size(); ++i)
      r = r << 6 | (static_cast<unsigned char>(text[i]) & 0x3F);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(r));
  return r < 0x20 || r == 0x7F ? buf : std::string(buf) + " '" + text + "'";
}

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view name) : text_(text), name_(name) {}

  std::vector<Piece> Run();

 private:
  bool AtRightDelim(size_t i, bool& trim) const;
  bool AtTerminator(size_t i) const;
  void LexComment();
  void LexAction(Piece& piece);
  size_t ScanQuoted(size_t i, char quote, const char* unterminated) const;
  size_t ScanNumber(size_t i) const;
  [[noreturn]] void Fail(const std::string& what) const { throw TemplateError(name_, line_, what); }
  int LinesIn(size_t from, size_t to) const {
    return static_cast<int>(std::count(text_.begin() + static_cast<ptrdiff_t>(from),
                                       text_.begin() + static_cast<ptrdiff_t>(to), '\n'));
  }

  std::string_view text_;
  std::string_view name_;
  size_t pos_ = 0;
  int line_ = 1;
  bool trim_next_text_ = false;
  std::vector<Piece> pieces_;
};

std::vector<Piece> Lexer::Run() {
  while (pos_ < text_.size()) {
    size_t open = text_.find("{{", pos_);
    if (open == std::string_view::npos) open = text_.size();
    std::string_view text = text_.substr(pos_, open - pos_);
    if (trim_next_text_) {
      while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
    }
    trim_next_text_ = false;
    const bool trim_left =
        open + 4 <= text_.size() && text_[open + 2] == '-' && IsSpace(text_[open + 3]);
    if (trim_left) {
      while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
    }
    if (!text.empty()) pieces_.push_back({text, false, {}, line_});
    line_ += LinesIn(pos_, open);
    if (open == text_.size()) break;
    pos_ = open + 2 + (trim_left ? 2 : 0);
    if (text_.substr(pos_).starts_with("/*")) {
      LexComment();
      continue;
    }
    Piece action{{}, true, {}, line_};
    LexAction(action);
    pieces_.push_back(std::move(action));
  }
  return std::move(pieces_);
}

bool Lexer::AtRightDelim(size_t i, bool& trim) const {
  const std::string_view rest = text_.substr(i);
  trim = rest.size() >= 4 && IsSpace(rest[0]) && rest[1] == '-' && rest.substr(2).starts_with("}}");
  return trim || rest.starts_with("}}");
}

bool Lexer::AtTerminator(size_t i) const {
  if (i >= text_.size()) return true;
  const char c = text_[i];
  if (IsSpace(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(') {
    return true;
  }
  return text_.substr(i).starts_with("}}");
}

void Lexer::LexComment() {
  const size_t end = text_.find("*/", pos_ + 2);
  if (end == std::string_view::npos) Fail("unclosed comment");
  line_ += LinesIn(pos_, end);
  pos_ = end + 2;
  bool trim = false;
  if (!AtRightDelim(pos_, trim)) Fail("comment ends before closing delimiter");
  pos_ += trim ? 4 : 2;
  trim_next_text_ = trim;
}

size_t Lexer::ScanQuoted(size_t i, char quote, const char* unterminated) const {
  for (++i; i < text_.size() && text_[i] != quote; ++i) {
    if (quote != '`' && text_[i] == '\\') ++i;
    if (i >= text_.size() || (quote != '`' && text_[i] == '\n')) Fail(unterminated);
  }
  if (i >= text_.size()) Fail(unterminated);
  return i + 1;
}

// Go's scanNumber: sign, base prefix, digits, fraction, exponent.
size_t Lexer::ScanNumber(size_t i) const {
  auto accept = [&](std::string_view set) {
    if (i < text_.size() && set.find(text_[i]) != std::string_view::npos) return ++i, true;
    return false;
  };
  auto accept_run = [&](std::string_view set) {
    while (accept(set)) {
    }
  };
  accept("+-");
  std::string_view digits = "0123456789_";
  if (accept("0")) {
    if (accept("xX")) {
      digits = "0123456789abcdefABCDEF_";
    } else if (accept("oO")) {
      digits = "01234567_";
    } else if (accept("bB")) {
      digits = "01_";
    }
  }
  accept_run(digits);
  if (accept(".")) accept_run(digits);
  if (digits.size() == 11 && accept("eE")) {
    accept("+-");
    accept_run("0123456789_");
  }
  if (digits.size() == 23 && accept("pP")) {
    accept("+-");
    accept_run("0123456789_");
  }
  accept("i");
  return i;
}

void Lexer::LexAction(Piece& piece) {
  int paren_depth = 0;
  while (true) {
    bool trim = false;
    if (AtRightDelim(pos_, trim)) {
      if (paren_depth > 0) Fail("unclosed left paren");
      pos_ += trim ? 4 : 2;
      trim_next_text_ = trim;
      return;
    }
    if (pos_ >= text_.size()) Fail("unclosed action");
    const size_t start = pos_;
    const char c = text_[pos_];
    Tok kind = Tok::kOther;
    size_t end = pos_ + 1;
    if (IsSpace(c)) {
      kind = Tok::kSpace;
      while (end < text_.size() && IsSpace(text_[end]) && !AtRightDelim(end, trim)) ++end;
    } else if (c == '=') {
      kind = Tok::kAssign;
    } else if (c == ':') {
      if (end >= text_.size() || text_[end] != '=') Fail("expected :=");
      kind = Tok::kDeclare, end = pos_ + 2;
    } else if (c == '|') {
      kind = Tok::kPipe;
    } else if (c == '"') {
      kind = Tok::kString, end = ScanQuoted(pos_, '"', "unterminated quoted string");
    } else if (c == '`') {
      kind = Tok::kRawString, end = ScanQuoted(pos_, '`', "unterminated raw quoted string");
    } else if (c == '\'') {
      kind = Tok::kChar, end = ScanQuoted(pos_, '\'', "unterminated character constant");
    } else if (c == '(') {
      kind = Tok::kLeftParen, ++paren_depth;
    } else if (c == ')') {
      if (--paren_depth < 0) Fail("unexpected right paren " + DescribeRune(text_.substr(pos_)));
      kind = Tok::kRightParen;
    } else if (c == '$' || (c == '.' && !(end < text_.size() &&
                                          std::isdigit(static_cast<unsigned char>(text_[end]))))) {
      while (end < text_.size() && IsAlphaNumeric(text_[end])) ++end;
      if (!AtTerminator(end)) Fail("bad character " + DescribeRune(text_.substr(end)));
      kind = c == '$' ? Tok::kVariable : end == pos_ + 1 ? Tok::kDot : Tok::kField;
    } else if (c == '.' || c == '+' || c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      end = ScanNumber(pos_);
      if (end < text_.size() && IsAlphaNumeric(text_[end])) {
        Fail("bad number syntax: " + GoQuote(text_.substr(pos_, end + 1 - pos_)));
      }
      kind = Tok::kNumber;
    } else if (IsAlphaNumeric(c)) {
      while (end < text_.size() && IsAlphaNumeric(text_[end])) ++end;
      if (!AtTerminator(end)) Fail("bad character " + DescribeRune(text_.substr(end)));
      const std::string_view word = text_.substr(pos_, end - pos_);
      kind = word == "true" || word == "false" ? Tok::kBool
             : word == "nil"                   ? Tok::kNil
             : IsKeyword(word)                 ? Tok::kKeyword
                                               : Tok::kIdentifier;
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      Fail("unrecognized character in action: " + DescribeRune(text_.substr(pos_)));
    }
    piece.tokens.push_back({kind, text_.substr(start, end - start)});
    line_ += LinesIn(start, end);
    pos_ = end;
  }
}

// ---- Parsing (Go's text/template/parse/parse.go, for pipelines) ----

struct Pipeline;

struct Operand {
  enum class Kind { kLiteral, kFunction, kDot, kField, kVariable, kPipeline, kNil };
  Kind kind = Kind::kLiteral;
  GoValue literal;
  std::string name;                 // function or variable name
  std::vector<std::string> fields;  // .A.b chain after the term
  std::shared_ptr<Pipeline> pipeline;
  std::string error;  // a literal Go refuses only when it is used ("... overflows int")
};

struct Command {
  std::vector<Operand> operands;
};

struct Pipeline {
  std::string declare;  // "$x" of {{ $x := ... }}
  std::vector<Command> commands;
};

// A parsed template: literal text or actions. `control` is the keyword of an
// action Vigil does not execute (if, range, ...).
struct Node {
  std::string_view text;
  std::shared_ptr<Pipeline> pipeline;
  std::string_view control;
  int line = 1;
  std::string_view else_kind;           // "if" or "with" of {{ else if ... }}
  std::vector<std::string> range_vars;  // {{ range $k, $v := ... }}
  size_t next = 0;  // if/with/range/else: index of the chain's next else or its end
};

// Go's strconv.Unquote for "..." and '...'; raw strings are taken as they are.
std::string UnquoteGo(std::string_view quoted) {
  std::string out;
  const std::string_view s = quoted.substr(1, quoted.size() - 2);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || quoted[0] == '`') {
      out += s[i];
      continue;
    }
    if (++i >= s.size()) throw std::string("invalid syntax");
    const char c = s[i];
    static constexpr std::string_view kSimple = "abfnrtv\\'\"";
    static constexpr std::string_view kValues = "\a\b\f\n\r\t\v\\'\"";
    if (const size_t k = kSimple.find(c); k != std::string_view::npos) {
      out += kValues[k];
      continue;
    }
    const int base = c <= '7' ? 8 : 16;
    const size_t digits = c == 'x'                 ? 2
                          : c == 'u'               ? 4
                          : c == 'U'               ? 8
                          : (c >= '0' && c <= '7') ? 3
                                                   : 0;
    const size_t from = c <= '7' ? i : i + 1;
    if (digits == 0 || from + digits > s.size()) throw std::string("invalid syntax");
    unsigned long v = 0;
    for (char d : s.substr(from, digits)) {
      const int x = std::isdigit(static_cast<unsigned char>(d))    ? d - '0'
                    : std::isxdigit(static_cast<unsigned char>(d)) ? (d | 0x20) - 'a' + 10
                                                                   : 99;
      if (x >= base) throw std::string("invalid syntax");
      v = v * static_cast<unsigned long>(base) + static_cast<unsigned long>(x);
    }
    i = from + digits - 1;
    if (c == 'x' || c <= '7') {
      if (v > 255) throw std::string("invalid syntax");
      out += static_cast<char>(v);
    } else {
      if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) throw std::string("invalid syntax");
      const GoValue rune = static_cast<int64_t>(v);
      out += GoSprintf("%c", std::span<const GoValue>(&rune, 1)).value();
    }
  }
  return out;
}

// Go's int parsing with base prefixes (0x, 0o, 0b, leading 0) and underscores.
std::optional<std::pair<bool, uint64_t>> ParseGoInteger(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) negative = s[0] == '-', s.remove_prefix(1);
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    const char p = static_cast<char>(s[1] | 0x20);
    base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
    s.remove_prefix(p == 'x' || p == 'o' || p == 'b' ? 2 : 1);
  }
  uint64_t v = 0;
  bool any = false;
  for (char c : s) {
    if (c == '_') continue;
    const int d = std::isdigit(static_cast<unsigned char>(c))   ? c - '0'
                  : std::isalpha(static_cast<unsigned char>(c)) ? (c | 0x20) - 'a' + 10
                                                                : 99;
    if (d >= base) return std::nullopt;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) {
      return std::make_pair(negative, UINT64_MAX);  // overflow marker
    }
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    any = true;
  }
  if (!any && base != 8) return std::nullopt;
  return std::make_pair(negative, v);
}

class Parser {
 public:
  Parser(std::string_view name, bool check_names) : name_(name), check_names_(check_names) {}

  std::vector<Node> Parse(const std::vector<Piece>& pieces);

 private:
  Node ParseAction(const Piece& piece);
  void LinkControl(std::vector<Node>& nodes);
  std::shared_ptr<Pipeline> ParsePipeline(std::string_view context, Tok end, int depth);
  Command ParseCommand(int depth);
  std::optional<Operand> ParseOperand(int depth);
  std::optional<Operand> ParseTerm(int depth);
  Operand ParseNumber(std::string_view text);

  const Token* Peek() const { return pos_ < tokens_->size() ? &(*tokens_)[pos_] : nullptr; }
  const Token* PeekNonSpace() {
    while (Peek() && Peek()->kind == Tok::kSpace) ++pos_;
    return Peek();
  }
  [[noreturn]] void Fail(const std::string& what) const { throw TemplateError(name_, line_, what); }
  [[noreturn]] void Unexpected(const Token* t, std::string_view context) const {
    Fail("unexpected " + (t ? GoQuote(t->text) : std::string("EOF")) + " in " +
         std::string(context));
  }

  std::string_view name_;
  bool check_names_;
  std::vector<std::string> vars_ = {"$", "$labels", "$externalLabels", "$externalURL", "$value"};
  const std::vector<Token>* tokens_ = nullptr;
  size_t pos_ = 0;
  int line_ = 1;
};

std::vector<Node> Parser::Parse(const std::vector<Piece>& pieces) {
  std::vector<Node> nodes;
  for (const Piece& piece : pieces) {
    if (!piece.is_action) {
      Node text;
      text.text = piece.text;
      text.line = piece.line;
      nodes.push_back(std::move(text));
    } else if (!piece.tokens.empty()) {
      nodes.push_back(ParseAction(piece));
    }
  }
  LinkControl(nodes);
  return nodes;
}

// Links each if/with/range/define/block to its else actions and its end.
void Parser::LinkControl(std::vector<Node>& nodes) {
  std::vector<size_t> open;  // the latest link of each open chain
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string_view c = nodes[i].control;
    line_ = nodes[i].line;
    if (c == "if" || c == "with" || c == "range" || c == "define" || c == "block") {
      if (open.size() >= static_cast<size_t>(kMaxTemplateDepth)) {
        Fail("exceeded maximum nesting depth (" + std::to_string(kMaxTemplateDepth) + ")");
      }
      open.push_back(i);
    } else if (c == "else" || c == "end") {
      if (open.empty()) Fail("unexpected {{" + std::string(c) + "}}");
      nodes[open.back()].next = i;
      if (c == "else") {
        open.back() = i;
      } else {
        open.pop_back();
      }
    }
  }
  if (!open.empty()) {
    line_ = nodes[open.back()].line;
    Fail("unexpected EOF");
  }
}

Node Parser::ParseAction(const Piece& piece) {
  tokens_ = &piece.tokens;
  pos_ = 0;
  line_ = piece.line;
  Node node;
  node.line = piece.line;
  const Token* first = PeekNonSpace();
  if (first && first->kind == Tok::kKeyword) {
    // Checked for names and variables, not executed.
    node.control = first->text;
    ++pos_;
    if (node.control == "template" || node.control == "define" || node.control == "block") {
      const Token* t = PeekNonSpace();
      if (t && (t->kind == Tok::kString || t->kind == Tok::kRawString)) ++pos_;
    }
    const Token* rest = PeekNonSpace();
    if (node.control == "else" && rest && rest->kind == Tok::kKeyword) {  // else if, else with
      node.else_kind = rest->text;
      ++pos_;
      rest = PeekNonSpace();
    }
    if (rest && rest->kind == Tok::kVariable) {  // range $i, $x := ...
      for (size_t i = pos_; i < piece.tokens.size(); ++i) {
        const Token& t = piece.tokens[i];
        if (t.kind == Tok::kDeclare || t.kind == Tok::kAssign) {
          for (size_t k = pos_; k < i; ++k) {
            if (piece.tokens[k].kind != Tok::kVariable) continue;
            vars_.emplace_back(piece.tokens[k].text);
            node.range_vars.emplace_back(piece.tokens[k].text);
          }
          pos_ = i + 1;
          break;
        }
      }
      rest = PeekNonSpace();
    }
    const std::string_view kind = node.control == "else" ? node.else_kind : node.control;
    if (kind == "if" || kind == "with" || kind == "range") {  // the condition is required
      node.pipeline = ParsePipeline(kind, Tok::kSpace, 0);
    } else if (rest && rest->kind != Tok::kOther) {
      node.pipeline = ParsePipeline("command", Tok::kSpace, 0);
    }
    return node;
  }
  node.pipeline = ParsePipeline("command", Tok::kSpace, 0);
  return node;
}

// `end` is kRightParen inside parentheses; kSpace stands for the action's end.
std::shared_ptr<Pipeline> Parser::ParsePipeline(std::string_view context, Tok end, int depth) {
  if (depth > kMaxTemplateDepth) {
    Fail("exceeded maximum nesting depth (" + std::to_string(kMaxTemplateDepth) + ")");
  }
  auto pipe = std::make_shared<Pipeline>();
  const size_t start = pos_;
  if (const Token* v = PeekNonSpace(); v && v->kind == Tok::kVariable) {
    ++pos_;
    const Token* next = PeekNonSpace();
    if (next && (next->kind == Tok::kDeclare || next->kind == Tok::kAssign)) {
      pipe->declare = std::string(v->text);
      ++pos_;
      if (next->kind == Tok::kDeclare) vars_.push_back(pipe->declare);
    } else {
      pos_ = start;
    }
  }
  while (true) {
    const Token* t = PeekNonSpace();
    if (t == nullptr && end == Tok::kSpace) break;
    if (t && t->kind == end) {
      ++pos_;
      break;
    }
    if (t == nullptr || t->kind == Tok::kPipe || t->kind == Tok::kRightParen ||
        t->kind == Tok::kOther || t->kind == Tok::kKeyword || t->kind == Tok::kDeclare ||
        t->kind == Tok::kAssign) {
      Unexpected(t, context);
    }
    pipe->commands.push_back(ParseCommand(depth));
  }
  if (pipe->commands.empty()) Fail("missing value for " + std::string(context));
  for (size_t i = 1; i < pipe->commands.size(); ++i) {
    const Operand::Kind k = pipe->commands[i].operands[0].kind;
    if (k == Operand::Kind::kLiteral || k == Operand::Kind::kNil || k == Operand::Kind::kDot) {
      Fail("non executable command in pipeline stage " + std::to_string(i + 1));
    }
  }
  return pipe;
}

Command Parser::ParseCommand(int depth) {
  Command cmd;
  while (true) {
    PeekNonSpace();
    if (auto operand = ParseOperand(depth)) cmd.operands.push_back(std::move(*operand));
    const Token* t = Peek();
    if (t == nullptr || t->kind == Tok::kRightParen) break;
    if (t->kind == Tok::kSpace) {
      ++pos_;
      const Token* next = PeekNonSpace();
      if (next == nullptr || next->kind == Tok::kRightParen) break;
      if (next->kind == Tok::kPipe) {
        ++pos_;
        break;
      }
      continue;
    }
    if (t->kind == Tok::kPipe) {
      ++pos_;
      break;
    }
    Unexpected(t, "operand");
  }
  if (cmd.operands.empty()) Fail("empty command");
  return cmd;
}

std::optional<Operand> Parser::ParseOperand(int depth) {
  auto term = ParseTerm(depth);
  if (!term) return std::nullopt;
  while (Peek() && Peek()->kind == Tok::kField) {
    if (term->kind == Operand::Kind::kLiteral || term->kind == Operand::Kind::kNil ||
        term->kind == Operand::Kind::kDot) {
      Fail("unexpected . after term");
    }
    term->fields.emplace_back(Peek()->text.substr(1));
    ++pos_;
  }
  return term;
}

Operand Parser::ParseNumber(std::string_view text) {
  Operand op;
  const bool hex = text.find_first_of("xX") != std::string_view::npos;
  const bool is_float = text.find_first_of(hex ? "pP" : ".eEpP") != std::string_view::npos;
  if (text.ends_with("i")) Fail("complex constants are not supported: " + std::string(text));
  if (is_float) {
    auto f = GoParseFloat(text);
    if (!f.ok()) Fail("illegal number syntax: " + GoQuote(text));
    op.literal = *f;
    return op;
  }
  const auto n = ParseGoInteger(text);
  if (!n) Fail("illegal number syntax: " + GoQuote(text));
  if (n->second == UINT64_MAX) Fail("integer overflow: " + GoQuote(text));
  const uint64_t limit = n->first ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (n->second > limit) {
    if (n->first) Fail("integer overflow: " + GoQuote(text));
    op.error = std::string(text) + " overflows int";
    return op;
  }
  op.literal = n->first ? static_cast<int64_t>(0 - n->second) : static_cast<int64_t>(n->second);
  return op;
}

std::optional<Operand> Parser::ParseTerm(int depth) {
  const Token* t = PeekNonSpace();
  if (t == nullptr) return std::nullopt;
  Operand op;
  switch (t->kind) {
    case Tok::kIdentifier:
      if (check_names_ && !IsTemplateFunctionDefined(t->text)) {
        Fail("function " + GoQuote(t->text) + " not defined");
      }
      op.kind = Operand::Kind::kFunction, op.name = std::string(t->text);
      break;
    case Tok::kDot:
      op.kind = Operand::Kind::kDot;
      break;
    case Tok::kNil:
      op.kind = Operand::Kind::kNil;
      break;
    case Tok::kBool:
      op.literal = t->text == "true";
      break;
    case Tok::kField:
      op.kind = Operand::Kind::kField, op.fields.emplace_back(t->text.substr(1));
      break;
    case Tok::kVariable:
      if (std::find(vars_.begin(), vars_.end(), t->text) == vars_.end()) {
        Fail("undefined variable " + GoQuote(t->text));
      }
      op.kind = Operand::Kind::kVariable, op.name = std::string(t->text);
      break;
    case Tok::kNumber:
      op = ParseNumber(t->text);
      break;
    case Tok::kChar: {
      std::string c;
      try {
        c = UnquoteGo(t->text);
      } catch (const std::string& e) {
        Fail("malformed character constant: " + std::string(t->text));
      }
      // The rune's code point: decode its UTF-8 sequence.
      if (c.empty() || c.size() > 4) Fail("malformed character constant: " + std::string(t->text));
      const auto b0 = static_cast<unsigned char>(c[0]);
      int64_t r = b0;
      if (b0 >= 0x80 && c.size() > 1) {
        const size_t n = c.size();
        r = b0 & (0xFF >> (n + 1));
        for (size_t i = 1; i < n; ++i) r = r << 6 | (static_cast<unsigned char>(c[i]) & 0x3F);
      }
      op.literal = r;
      break;
    }
    case Tok::kString:
    case Tok::kRawString:
      try {
        op.literal = UnquoteGo(t->text);
      } catch (const std::string& e) {
        Fail(e);
      }
      break;
    case Tok::kLeftParen:
      ++pos_;
      op.kind = Operand::Kind::kPipeline;
      op.pipeline = ParsePipeline("parenthesized pipeline", Tok::kRightParen, depth + 1);
      return op;
    default:
      return std::nullopt;
  }
  ++pos_;
  return op;
}

// ---- Execution ----

// What a pipeline yields: a Go value, a label map, or the template's data (dot).
struct Value {
  enum class Kind { kGo, kMap, kDot };
  Kind kind = Kind::kGo;
  GoValue go;
  const Labels* map = nullptr;
};

std::string MapText(const Labels* labels) {
  std::string out = "map[";
  bool first = true;
  if (labels) {
    for (const auto& l : *labels) {
      if (!first) out += ' ';
      first = false;
      out += l.name + ":" + l.value;
    }
  }
  return out + "]";
}

class Executor {
 public:
  explicit Executor(const AlertTemplateData& data) : data_(data) {}

  Result<std::string> Run(const std::vector<Node>& nodes);

 private:
  // Executes nodes [begin, end) into out_.
  Status Exec(size_t begin, size_t end);
  // Executes the control chain starting at `i`; returns the index of its end.
  Result<size_t> ExecControl(size_t i);
  Status ExecRange(size_t i, const Value& v);
  bool Truth(const Value& v) const;
  const Value& Dot() const { return dots_.back(); }
  Result<Value> Eval(const Pipeline& pipe);
  Result<Value> EvalCommand(const Command& cmd, const std::optional<Value>& piped);
  Result<Value> EvalOperand(const Operand& op);
  Result<Value> Field(const Value& base, const std::string& field) const;
  std::string Text(const Value& v) const;

  const AlertTemplateData& data_;
  std::map<std::string, Value> vars_;
  const std::vector<Node>* nodes_ = nullptr;
  std::vector<Value> dots_ = {Value{Value::Kind::kDot, {}, nullptr}};
  std::string out_;
};

Result<std::string> Executor::Run(const std::vector<Node>& nodes) {
  nodes_ = &nodes;
  if (Status st = Exec(0, nodes.size()); !st.ok()) return st;
  return std::move(out_);
}

Status Executor::Exec(size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const Node& node = (*nodes_)[i];
    if (!node.control.empty()) {
      auto chain_end = ExecControl(i);
      if (!chain_end.ok()) return chain_end.status();
      i = *chain_end;
    } else if (node.pipeline == nullptr) {
      out_ += node.text;
    } else {
      auto v = Eval(*node.pipeline);
      if (!v.ok()) return v.status();
      if (node.pipeline->declare.empty()) out_ += Text(*v);
    }
    if (out_.size() > kMaxTemplateOutput) {
      return Status::InvalidArgument("template output exceeds " +
                                     std::to_string(kMaxTemplateOutput) + " bytes");
    }
  }
  return Status::OK();
}

Result<size_t> Executor::ExecControl(size_t i) {
  const std::string_view control = (*nodes_)[i].control;
  if (control != "if" && control != "with" && control != "range") {  // template, define, break, ...
    return Status::InvalidArgument("{{ " + std::string(control) +
                                   " }} is not supported by Vigil's alert templates");
  }
  size_t end = (*nodes_)[i].next;
  while ((*nodes_)[end].control != "end") end = (*nodes_)[end].next;
  // Walks the chain if ... else if ... else ... end until a branch runs.
  for (size_t link = i; link != end; link = (*nodes_)[link].next) {
    const Node& node = (*nodes_)[link];
    const std::string_view kind = node.control == "else" ? node.else_kind : node.control;
    if (kind != "if" && kind != "with" && kind != "range" && !kind.empty()) {
      return Status::InvalidArgument("{{ " + std::string(kind) +
                                     " }} is not supported by Vigil's alert templates");
    }
    if (kind.empty()) {  // a plain {{ else }}
      if (Status st = Exec(link + 1, node.next); !st.ok()) return st;
      return end;
    }
    if (node.pipeline == nullptr) {  // the parser refuses this; never dereference it
      return Status::InvalidArgument("missing value for " + std::string(kind));
    }
    auto v = Eval(*node.pipeline);
    if (!v.ok()) return v.status();
    if (kind != "range" && node.range_vars.size() == 1) vars_[node.range_vars[0]] = *v;
    if (!Truth(*v)) continue;
    Status st;
    if (kind == "range") {
      st = v->kind == Value::Kind::kMap
               ? ExecRange(link, *v)
               : Status::InvalidArgument("range can't iterate over " + Text(*v));
    } else {
      if (kind == "with") dots_.push_back(*v);
      st = Exec(link + 1, node.next);
      if (kind == "with") dots_.pop_back();
    }
    if (!st.ok()) return st;
    return end;
  }
  return end;
}

Status Executor::ExecRange(size_t i, const Value& v) {
  const Node& node = (*nodes_)[i];
  for (const auto& l : *v.map) {
    const Value value{Value::Kind::kGo, l.value, nullptr};
    if (node.range_vars.size() == 1) vars_[node.range_vars[0]] = value;
    if (node.range_vars.size() == 2) {
      vars_[node.range_vars[0]] = Value{Value::Kind::kGo, l.name, nullptr};
      vars_[node.range_vars[1]] = value;
    }
    dots_.push_back(value);
    Status st = Exec(i + 1, node.next);
    dots_.pop_back();
    if (!st.ok()) return st;
  }
  return Status::OK();
}

// Go's template truth: false, 0, "", nil and empty maps are false.
bool Executor::Truth(const Value& v) const {
  if (v.kind == Value::Kind::kDot) return true;
  if (v.kind == Value::Kind::kMap) return v.map && !v.map->empty();
  return IsTruthy(v.go);
}

Result<Value> Executor::Eval(const Pipeline& pipe) {
  std::optional<Value> piped;
  for (const Command& cmd : pipe.commands) {
    auto v = EvalCommand(cmd, piped);
    if (!v.ok()) return v.status();
    piped = std::move(v).value();
  }
  if (!pipe.declare.empty()) vars_[pipe.declare] = *piped;
  return *piped;
}

Result<Value> Executor::EvalCommand(const Command& cmd, const std::optional<Value>& piped) {
  const Operand& first = cmd.operands[0];
  if (first.kind != Operand::Kind::kFunction) {
    if (cmd.operands.size() > 1 || piped) {
      return Status::InvalidArgument("can't give argument to non-function " +
                                     (first.name.empty() ? std::string("operand") : first.name));
    }
    if (first.kind == Operand::Kind::kNil) return Status::InvalidArgument("nil is not a command");
    return EvalOperand(first);
  }
  std::vector<GoValue> args;
  auto add = [&](const Value& v) -> Status {
    if (v.kind != Value::Kind::kGo) {
      return Status::InvalidArgument("passing a map or the template data to " + first.name +
                                     " is not supported by Vigil's alert templates");
    }
    args.push_back(v.go);
    return Status::OK();
  };
  for (size_t i = 1; i < cmd.operands.size(); ++i) {
    auto v = EvalOperand(cmd.operands[i]);
    if (!v.ok()) return v.status();
    if (Status st = add(*v); !st.ok()) return st;
  }
  if (piped) {
    if (Status st = add(*piped); !st.ok()) return st;
  }
  auto r = CallTemplateFunction(first.name, args, {data_.external_url});
  if (!r.ok()) return r.status();
  return Value{Value::Kind::kGo, std::move(r).value(), nullptr};
}

Result<Value> Executor::EvalOperand(const Operand& op) {
  if (!op.error.empty()) return Status::InvalidArgument(op.error);
  Value v;
  switch (op.kind) {
    case Operand::Kind::kLiteral:
      v.go = op.literal;
      break;
    case Operand::Kind::kNil:
      v.go = GoNil{};
      break;
    case Operand::Kind::kDot:
    case Operand::Kind::kField:
      v = Dot();
      break;
    case Operand::Kind::kFunction:  // a function as an argument: Go calls it without arguments
      return EvalCommand(Command{{op}}, std::nullopt);
    case Operand::Kind::kPipeline: {
      auto r = Eval(*op.pipeline);
      if (!r.ok()) return r.status();
      v = std::move(r).value();
      break;
    }
    case Operand::Kind::kVariable:
      if (op.name == "$") {
        v.kind = Value::Kind::kDot;
      } else if (op.name == "$labels" || op.name == "$externalLabels") {
        v.kind = Value::Kind::kMap;
        v.map = op.name == "$labels" ? data_.labels : data_.external_labels;
      } else if (op.name == "$externalURL") {
        v.go = data_.external_url;
      } else if (op.name == "$value") {
        v.go = data_.value;
      } else if (auto it = vars_.find(op.name); it != vars_.end()) {
        v = it->second;
      } else {
        return Status::InvalidArgument("undefined variable " + GoQuote(op.name));
      }
      break;
  }
  for (const std::string& field : op.fields) {
    auto next = Field(v, field);
    if (!next.ok()) return next.status();
    v = std::move(next).value();
  }
  return v;
}

Result<Value> Executor::Field(const Value& base, const std::string& field) const {
  Value v;
  if (base.kind == Value::Kind::kMap) {  // missingkey=zero: a missing label is ""
    v.go = base.map ? std::string(base.map->Get(field)) : std::string();
    return v;
  }
  if (base.kind == Value::Kind::kDot) {
    if (field == "Labels" || field == "ExternalLabels") {
      v.kind = Value::Kind::kMap;
      v.map = field == "Labels" ? data_.labels : data_.external_labels;
      return v;
    }
    if (field == "ExternalURL") return Value{Value::Kind::kGo, data_.external_url, nullptr};
    if (field == "Value") return Value{Value::Kind::kGo, data_.value, nullptr};
    return Status::InvalidArgument("can't evaluate field " + field + " in type template.tmplData");
  }
  return Status::InvalidArgument("can't evaluate field " + field + " in type " +
                                 std::string(GoTypeName(base.go)));
}

std::string Executor::Text(const Value& v) const {
  switch (v.kind) {
    case Value::Kind::kMap:
      return MapText(v.map);
    case Value::Kind::kDot:
      return "{" + MapText(data_.labels) + " " + MapText(data_.external_labels) + " " +
             data_.external_url + " " + GoSprint(data_.value) + "}";
    default:
      if (std::holds_alternative<GoNil>(v.go)) return "<no value>";
      return GoSprint(v.go);
  }
}

Result<std::vector<Node>> Parse(std::string_view text, std::string_view name, bool check_names) {
  try {
    const std::vector<Piece> pieces = Lexer(text, name).Run();
    return Parser(name, check_names).Parse(pieces);
  } catch (const TemplateError& e) {
    return e.status();
  }
}

}  // namespace

std::string ExpandAlertTemplate(std::string_view text, const AlertTemplateData& data) {
  const std::string name = "__alert_" + data.alert_name;
  auto nodes = Parse(text, name, true);
  Result<std::string> out = nodes.ok() ? Executor(data).Run(*nodes) : nodes.status();
  if (!out.ok())
    return ReplaceInvalidUtf8("<error expanding template: " + out.status().message() + ">");
  return ReplaceInvalidUtf8(*out);
}

Status CheckAlertTemplate(std::string_view text, std::string_view alert_name) {
  auto nodes = Parse(text, "__alert_" + std::string(alert_name), true);
  return nodes.ok() ? Status::OK() : nodes.status();
}

}  // namespace vigil::rules
