#include "promql/parser.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "promql/functions.h"
#include "promql/lexer.h"
#include "base/duration.h"

namespace vigil::promql {
namespace {

constexpr int kPowPrecedence = 6;

// Prometheus durations are int64 nanoseconds: about 292 years.
constexpr int64_t kMaxDurationMs = std::numeric_limits<int64_t>::max() / 1'000'000;

// Whether `text` is a well-formed duration apart from the size of its
// numbers (each digit run replaced by "1" parses), so that a failure to
// parse it was an overflow.
bool IsDurationSyntax(std::string_view text) {
  std::string shape;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i]));
    if (!digit) {
      shape += text[i];
    } else if (i == 0 || !std::isdigit(static_cast<unsigned char>(text[i - 1]))) {
      shape += '1';
    }
  }
  return ParseDuration(shape).ok();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<Op> AggregationOp(std::string_view lowered) {
  static const std::pair<std::string_view, Op> kTable[] = {
      {"sum", Op::kSum},       {"avg", Op::kAvg},
      {"count", Op::kCount},   {"min", Op::kMin},
      {"max", Op::kMax},       {"group", Op::kGroup},
      {"stddev", Op::kStddev}, {"stdvar", Op::kStdvar},
      {"topk", Op::kTopk},     {"bottomk", Op::kBottomk},
      {"count_values", Op::kCountValues}, {"quantile", Op::kQuantile},
  };
  for (const auto& [name, op] : kTable) {
    if (name == lowered) return op;
  }
  return std::nullopt;
}

class Parser {
 public:
  Parser(std::string_view query, std::vector<Token> tokens)
      : query_(query), tokens_(std::move(tokens)) {}

  Result<NodePtr> ParseWhole() {
    if (Peek().kind == TokenKind::kEnd) {  // empty, or only comments
      Fail(0, "no expression found in input");
      return error_;
    }
    NodePtr root = ParseExpr(0);
    if (!error_.ok()) return error_;
    if (Peek().kind != TokenKind::kEnd) {
      Unexpected(Peek(), "");
      return error_;
    }
    return root;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Take() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool PeekWord(std::string_view lowered, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kIdentifier && Lower(Peek(ahead).text) == lowered;
  }

  // Records the first error; later ones are dropped as Prometheus reports one.
  void Fail(size_t pos, const std::string& msg) {
    if (error_.ok()) {
      error_ = Status::InvalidArgument(PositionPrefix(query_, pos) + " parse error: " + msg);
    }
  }
  void Unexpected(const Token& t, const std::string& context) {
    if (t.kind == TokenKind::kError) return Fail(t.pos, t.text);
    std::string msg = "unexpected " + DescribeToken(t);
    if (!context.empty()) msg += " " + context;
    Fail(t.pos, msg);
  }
  bool Expect(TokenKind kind, const std::string& context) {
    if (Peek().kind == kind) {
      Take();
      return true;
    }
    Unexpected(Peek(), context);
    return false;
  }

  // Guards the recursion depth; false (with an error) when exceeded.
  bool Enter() {
    if (++depth_ > kMaxParseDepth) {
      Fail(Peek().pos, "expression nesting exceeds the maximum depth of " +
                           std::to_string(kMaxParseDepth));
      return false;
    }
    return true;
  }

  NodePtr MakeNode(NodeKind kind, size_t start) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos.start = start;
    n->pos.end = start;
    return n;
  }
  size_t LastEnd() const {
    const Token& prev = tokens_[pos_ == 0 ? 0 : pos_ - 1];
    return pos_ == 0 ? 0 : prev.pos + RawLength(prev);
  }
  size_t RawLength(const Token& t) const {
    const size_t next = pos_ < tokens_.size() ? tokens_[pos_].pos : query_.size();
    // Token text holds unquoted strings, so measure up to the next token instead.
    if (t.kind == TokenKind::kString) {
      size_t end = next;
      while (end > t.pos && std::isspace(static_cast<unsigned char>(query_[end - 1]))) --end;
      return end - t.pos;
    }
    return t.text.size();
  }

  // Binary operator at the current token and its precedence (0: none).
  std::pair<Op, int> PeekBinaryOp() const {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kEql: return {Op::kEql, 3};
      case TokenKind::kNeq: return {Op::kNeq, 3};
      case TokenKind::kLte: return {Op::kLte, 3};
      case TokenKind::kLss: return {Op::kLss, 3};
      case TokenKind::kGte: return {Op::kGte, 3};
      case TokenKind::kGtr: return {Op::kGtr, 3};
      case TokenKind::kAdd: return {Op::kAdd, 4};
      case TokenKind::kSub: return {Op::kSub, 4};
      case TokenKind::kMul: return {Op::kMul, 5};
      case TokenKind::kDiv: return {Op::kDiv, 5};
      case TokenKind::kMod: return {Op::kMod, 5};
      case TokenKind::kPow: return {Op::kPow, kPowPrecedence};
      case TokenKind::kIdentifier: {
        const std::string w = Lower(t.text);
        if (w == "or") return {Op::kOr, 1};
        if (w == "and") return {Op::kAnd, 2};
        if (w == "unless") return {Op::kUnless, 2};
        if (w == "atan2") return {Op::kAtan2, 5};
        return {Op::kNone, 0};
      }
      default: return {Op::kNone, 0};
    }
  }

  NodePtr ParseExpr(int min_prec) {
    if (!Enter()) return nullptr;
    // Every operator in a chain deepens the tree by one level, so it counts
    // towards the depth limit like a nesting level does.
    int chain = 0;
    NodePtr lhs = ParseUnaryOrPrimary();
    while (error_.ok()) {
      auto [op, prec] = PeekBinaryOp();
      if (op == Op::kNone || prec < min_prec) break;
      if (!Enter()) break;
      ++chain;
      const size_t op_pos = Take().pos;
      NodePtr bin = MakeNode(NodeKind::kBinary, lhs->pos.start);
      bin->op = op;
      bin->op_pos = op_pos;
      ParseBinaryModifiers(bin.get());
      if (!error_.ok()) break;
      NodePtr rhs = ParseExpr(op == Op::kPow ? prec : prec + 1);
      if (!error_.ok()) break;
      bin->pos.end = rhs->pos.end;
      bin->children.push_back(std::move(lhs));
      bin->children.push_back(std::move(rhs));
      lhs = std::move(bin);
    }
    depth_ -= 1 + chain;
    return error_.ok() ? std::move(lhs) : nullptr;
  }

  void ParseBinaryModifiers(Node* bin) {
    if (PeekWord("bool")) {
      Take();
      bin->return_bool = true;
    }
    const bool on = PeekWord("on");
    if (on || PeekWord("ignoring")) {
      Take();
      bin->matching.on = on;
      bin->matching.labels = ParseLabelList();
      const bool left = PeekWord("group_left");
      if (left || PeekWord("group_right")) {
        Take();
        bin->matching.card = left ? Cardinality::kManyToOne : Cardinality::kOneToMany;
        if (Peek().kind == TokenKind::kLeftParen) bin->matching.include = ParseLabelList();
      }
    }
    if (PeekWord("group_left") || PeekWord("group_right")) Unexpected(Peek(), "");
  }

  std::vector<std::string> ParseLabelList() {
    std::vector<std::string> out;
    if (!Expect(TokenKind::kLeftParen, "in grouping opts, expected \"(\"")) return out;
    while (error_.ok() && Peek().kind != TokenKind::kRightParen) {
      const Token& t = Peek();
      if (t.kind != TokenKind::kIdentifier || !IsValidLabelName(t.text)) {
        Unexpected(t, "in grouping opts, expected label");
        return out;
      }
      out.push_back(Take().text);
      if (Peek().kind == TokenKind::kComma) {
        Take();
      } else if (Peek().kind != TokenKind::kRightParen) {
        Unexpected(Peek(), "in grouping opts, expected \")\" or \",\"");
        return out;
      }
    }
    Expect(TokenKind::kRightParen, "in grouping opts");
    return out;
  }

  NodePtr ParseUnaryOrPrimary() {
    const Token& t = Peek();
    if (t.kind == TokenKind::kAdd || t.kind == TokenKind::kSub) {
      const size_t start = t.pos;
      const bool negate = Take().kind == TokenKind::kSub;
      NodePtr operand = ParseExpr(kPowPrecedence);
      if (!error_.ok()) return nullptr;
      if (operand->kind == NodeKind::kNumber) {  // Prometheus folds -1 into a literal
        if (negate) operand->number = -operand->number;
        operand->pos.start = start;
        return operand;
      }
      NodePtr unary = MakeNode(NodeKind::kUnary, start);
      unary->op = negate ? Op::kSub : Op::kAdd;
      unary->pos.end = operand->pos.end;
      unary->children.push_back(std::move(operand));
      return unary;
    }
    NodePtr primary = ParsePrimary();
    // Each range or subquery wraps the tree in one more level, as an operator does.
    int wrapped = 0;
    while (error_.ok() && primary) {
      if (Peek().kind == TokenKind::kLeftBracket) {
        if (!Enter()) break;
        ++wrapped;
        primary = ParseRangeOrSubquery(std::move(primary));
      } else if (PeekWord("offset")) {
        ParseOffset(primary.get());
      } else if (Peek().kind == TokenKind::kAt) {
        ParseAt(primary.get());
      } else {
        break;
      }
    }
    depth_ -= wrapped;
    return error_.ok() ? std::move(primary) : nullptr;
  }

  std::optional<int64_t> ParseDurationToken(const std::string& context) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kNumber) {
      Fail(t.pos, "missing unit character in duration");
      return std::nullopt;
    }
    if (t.kind != TokenKind::kDuration) {
      Unexpected(t, context);
      return std::nullopt;
    }
    auto d = ParseDuration(t.text);
    if (!d.ok() || *d > kMaxDurationMs) {
      Fail(t.pos, d.ok() || IsDurationSyntax(t.text)
                      ? "duration out of range"
                      : "not a valid duration string: \"" + t.text + "\"");
      return std::nullopt;
    }
    Take();
    return *d;
  }

  NodePtr ParseRangeOrSubquery(NodePtr inner) {
    const size_t open = Take().pos;
    auto range = ParseDurationToken("in subquery or range selector, expected duration");
    if (!range) return nullptr;
    if (Peek().kind == TokenKind::kColon) {
      Take();
      NodePtr sq = MakeNode(NodeKind::kSubquery, inner->pos.start);
      sq->range_ms = *range;
      if (Peek().kind != TokenKind::kRightBracket) {
        auto step = ParseDurationToken("in subquery, expected duration or \"]\"");
        if (!step) return nullptr;
        sq->step_ms = *step;
      }
      if (!Expect(TokenKind::kRightBracket, "in subquery, expected \"]\"")) return nullptr;
      sq->pos.end = LastEnd();
      sq->children.push_back(std::move(inner));
      return sq;
    }
    if (!Expect(TokenKind::kRightBracket, "in range selector, expected \"]\"")) return nullptr;
    if (inner->kind != NodeKind::kVectorSelector) {
      Fail(open, "ranges only allowed for vector selectors");
      return nullptr;
    }
    if (inner->time.offset_ms != 0) {
      Fail(open, "no offset modifiers allowed before range");
      return nullptr;
    }
    if (inner->time.at != AtKind::kNone) {
      Fail(open, "no @ modifiers allowed before range");
      return nullptr;
    }
    NodePtr ms = MakeNode(NodeKind::kMatrixSelector, inner->pos.start);
    ms->range_ms = *range;
    ms->pos.end = LastEnd();
    ms->children.push_back(std::move(inner));
    return ms;
  }

  // The node whose offset/@ a postfix modifier sets, or nullptr.
  static Node* ModifierTarget(Node* n) {
    switch (n->kind) {
      case NodeKind::kVectorSelector:
      case NodeKind::kSubquery: return n;
      case NodeKind::kMatrixSelector: return n->children[0].get();
      default: return nullptr;
    }
  }

  void ParseOffset(Node* n) {
    Take();
    bool negative = false;
    if (Peek().kind == TokenKind::kSub) {
      Take();
      negative = true;
    }
    auto d = ParseDurationToken("in offset, expected duration");
    if (!d) return;
    Node* target = ModifierTarget(n);
    if (target == nullptr) {
      Fail(n->pos.start,
           "offset modifier must be preceded by an instant vector selector or range vector "
           "selector or a subquery");
      return;
    }
    if (target->time.offset_ms != 0) {
      Fail(n->pos.start, "offset may not be set multiple times");
      return;
    }
    target->time.offset_ms = negative ? -*d : *d;
    n->pos.end = LastEnd();
  }

  void ParseAt(Node* n) {
    Take();
    TimeModifiers mods;
    if (PeekWord("start") || PeekWord("end")) {
      mods.at = PeekWord("start") ? AtKind::kStart : AtKind::kEnd;
      Take();
      if (!Expect(TokenKind::kLeftParen, "in @, expected timestamp")) return;
      if (!Expect(TokenKind::kRightParen, "in @, expected timestamp")) return;
    } else {
      bool negative = false;
      if (Peek().kind == TokenKind::kSub || Peek().kind == TokenKind::kAdd) {
        negative = Take().kind == TokenKind::kSub;
      }
      if (Peek().kind != TokenKind::kNumber) {
        Unexpected(Peek(), "in @, expected timestamp");
        return;
      }
      double ts = ParseNumberText(Take().text);
      if (negative) ts = -ts;
      if (!std::isfinite(ts) || std::fabs(ts) >= 9.2e15) {
        Fail(n->pos.start, "timestamp out of bounds for @ modifier: " + std::to_string(ts));
        return;
      }
      mods.at = AtKind::kTimestamp;
      mods.at_ms = static_cast<int64_t>(std::round(ts * 1000));
    }
    Node* target = ModifierTarget(n);
    if (target == nullptr) {
      Fail(n->pos.start,
           "@ modifier must be preceded by an instant vector selector or range vector selector "
           "or a subquery");
      return;
    }
    if (target->time.at != AtKind::kNone) {
      Fail(n->pos.start, "@ <timestamp> may not be set multiple times");
      return;
    }
    target->time.at = mods.at;
    target->time.at_ms = mods.at_ms;
    n->pos.end = LastEnd();
  }

  static double ParseNumberText(const std::string& text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      return static_cast<double>(std::strtoull(text.c_str() + 2, nullptr, 16));
    }
    return std::strtod(text.c_str(), nullptr);
  }

  NodePtr ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case TokenKind::kNumber: {
        NodePtr n = MakeNode(NodeKind::kNumber, t.pos);
        n->number = ParseNumberText(t.text);
        Take();
        n->pos.end = LastEnd();
        return n;
      }
      case TokenKind::kString: {
        NodePtr n = MakeNode(NodeKind::kString, t.pos);
        n->text = t.text;
        Take();
        n->pos.end = LastEnd();
        return n;
      }
      case TokenKind::kLeftParen: return ParseParen();
      case TokenKind::kLeftBrace: return ParseSelector(t.pos, "");
      case TokenKind::kIdentifier: return ParseWord();
      default: Unexpected(t, ""); return nullptr;
    }
  }

  NodePtr ParseParen() {
    const size_t start = Take().pos;
    NodePtr inner = ParseExpr(0);
    if (!error_.ok()) return nullptr;
    if (!Expect(TokenKind::kRightParen, "in paren expression, expected \")\"")) return nullptr;
    NodePtr n = MakeNode(NodeKind::kParen, start);
    n->pos.end = LastEnd();
    n->children.push_back(std::move(inner));
    return n;
  }

  NodePtr ParseWord() {
    const Token& t = Peek();
    const std::string lowered = Lower(t.text);
    if (lowered == "inf" || lowered == "nan") {
      NodePtr n = MakeNode(NodeKind::kNumber, t.pos);
      n->number = lowered == "inf" ? INFINITY : NAN;
      Take();
      n->pos.end = LastEnd();
      return n;
    }
    if (auto agg = AggregationOp(lowered)) {
      const bool is_call = Peek(1).kind == TokenKind::kLeftParen || PeekWord("by", 1) ||
                           PeekWord("without", 1);
      if (is_call) return ParseAggregation(*agg);
    }
    if (Peek(1).kind == TokenKind::kLeftParen) return ParseCall();
    if (lowered == "atan2" || lowered == "bool" || lowered == "on" || lowered == "ignoring" ||
        lowered == "group_left" || lowered == "group_right") {
      Unexpected(t, "");
      return nullptr;
    }
    const size_t start = t.pos;
    std::string name = Take().text;
    return ParseSelector(start, std::move(name));
  }

  NodePtr ParseCall() {
    const Token& name = Take();
    NodePtr n = MakeNode(NodeKind::kCall, name.pos);
    n->func = LookupFunction(name.text);
    if (n->func == nullptr) {
      Fail(name.pos, "unknown function with name \"" + name.text + "\"");
      return nullptr;
    }
    if (!Enter()) return nullptr;
    n->children = ParseArgs();
    --depth_;
    n->pos.end = LastEnd();
    return error_.ok() ? std::move(n) : nullptr;
  }

  std::vector<NodePtr> ParseArgs() {
    std::vector<NodePtr> args;
    Take();  // "("
    while (error_.ok() && Peek().kind != TokenKind::kRightParen) {
      NodePtr arg = ParseExpr(0);
      if (!error_.ok()) break;
      args.push_back(std::move(arg));
      if (Peek().kind == TokenKind::kComma) {
        Take();
      } else if (Peek().kind != TokenKind::kRightParen) {
        Unexpected(Peek(), "in call, expected \",\" or \")\"");
      }
    }
    if (error_.ok()) Expect(TokenKind::kRightParen, "");
    return args;
  }

  bool ParseGrouping(Node* n) {
    const bool without = PeekWord("without");
    if (!without && !PeekWord("by")) return false;
    Take();
    n->without = without;
    n->grouping = ParseLabelList();
    return true;
  }

  NodePtr ParseAggregation(Op op) {
    const Token& name = Take();
    NodePtr n = MakeNode(NodeKind::kAggregate, name.pos);
    n->op = op;
    const bool grouped_before = ParseGrouping(n.get());
    if (!error_.ok()) return nullptr;
    if (Peek().kind != TokenKind::kLeftParen) {
      Unexpected(Peek(), "in aggregation");
      return nullptr;
    }
    if (!Enter()) return nullptr;
    std::vector<NodePtr> args = ParseArgs();
    --depth_;
    if (!error_.ok()) return nullptr;
    if (!grouped_before && (PeekWord("by") || PeekWord("without"))) ParseGrouping(n.get());
    if (!error_.ok()) return nullptr;
    n->pos.end = LastEnd();
    const size_t want = AggregationHasParam(op) ? 2 : 1;
    if (args.size() != want) {
      Fail(n->pos.start, "wrong number of arguments for aggregate expression provided, expected " +
                             std::to_string(want) + ", got " + std::to_string(args.size()));
      return nullptr;
    }
    // Stored as children[0] = expression, children[1] = parameter.
    n->children.push_back(std::move(args.back()));
    if (want == 2) n->children.push_back(std::move(args.front()));
    return n;
  }

  NodePtr ParseSelector(size_t start, std::string name) {
    NodePtr n = MakeNode(NodeKind::kVectorSelector, start);
    n->metric_name = name;
    if (Peek().kind == TokenKind::kLeftBrace) {
      Take();
      ParseMatchers(n.get());
      if (!error_.ok()) return nullptr;
    }
    if (!name.empty()) {
      auto m = LabelMatcher::Make(MatchType::kEqual, std::string(kMetricNameLabel), name);
      n->matchers.push_back(std::move(*m));
    }
    n->pos.end = LastEnd();
    return n;
  }

  void ParseMatchers(Node* n) {
    while (error_.ok() && Peek().kind != TokenKind::kRightBrace) {
      const Token& label = Peek();
      if (label.kind != TokenKind::kIdentifier || !IsValidLabelName(label.text)) {
        Unexpected(label, "in label matching, expected identifier or \"}\"");
        return;
      }
      Take();
      std::optional<MatchType> type;
      switch (Peek().kind) {
        case TokenKind::kAssign: type = MatchType::kEqual; break;
        case TokenKind::kNeq: type = MatchType::kNotEqual; break;
        case TokenKind::kRegexMatch: type = MatchType::kRegexMatch; break;
        case TokenKind::kRegexNoMatch: type = MatchType::kRegexNoMatch; break;
        default: Unexpected(Peek(), "in label matching, expected label matching operator"); return;
      }
      Take();
      if (Peek().kind != TokenKind::kString) {
        Unexpected(Peek(), "in label matching, expected string");
        return;
      }
      const Token& value = Take();
      auto m = LabelMatcher::Make(*type, label.text, value.text);
      if (!m.ok()) {
        Fail(value.pos, m.status().message());
        return;
      }
      n->matchers.push_back(std::move(*m));
      if (Peek().kind == TokenKind::kComma) {
        Take();
      } else if (Peek().kind != TokenKind::kRightBrace) {
        Unexpected(Peek(), "in label matching, expected \",\" or \"}\"");
        return;
      }
    }
    Expect(TokenKind::kRightBrace, "inside braces");
  }

  std::string_view query_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  Status error_;
};

}  // namespace

Result<NodePtr> ParseExpr(std::string_view query) {
  Parser parser(query, Lex(query));
  auto root = parser.ParseWhole();
  if (!root.ok()) return root.status();
  VIGIL_RETURN_IF_ERROR(CheckTypes(**root, query));
  return root;
}

// Like Prometheus's ParseMetricSelector: syntax only, no type checks, so
// selectors whose matchers all match "" parse; callers (the API's match[])
// reject those with their own message.
Result<LabelMatchers> ParseMetricSelector(std::string_view selector) {
  Parser parser(selector, Lex(selector));
  auto root = parser.ParseWhole();
  if (!root.ok()) return root.status();
  if ((*root)->kind != NodeKind::kVectorSelector) {
    return Status::InvalidArgument(PositionPrefix(selector, 0) +
                                   " parse error: expected a series selector, got " +
                                   DocumentedTypeName((*root)->Type()));
  }
  return std::move((*root)->matchers);
}

}  // namespace vigil::promql
