#include "rules/alert_template.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>
#include <variant>
#include <vector>

#include "storage/metrics_registry.h"
#include "storage/status.h"

namespace vigil::rules {
namespace {

// A template value: a string or a number (numbers print as Go's %v does).
using Value = std::variant<std::string, double>;

std::string ToText(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return FormatFloat(std::get<double>(v));
}

Result<double> ToNumber(const Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  const std::string& s = std::get<std::string>(v);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) {
    return Status::InvalidArgument("strconv.ParseFloat: parsing \"" + s + "\": invalid syntax");
  }
  return d;
}

std::string Humanize(double v, double base, bool binary) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return GoFormat4g(v);
  std::string prefix;
  if (std::fabs(v) >= 1) {
    static const char* kBig[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char* kBin[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
    for (int i = 0; i < 8 && std::fabs(v) >= base; ++i) {
      prefix = binary ? kBin[i] : kBig[i];
      v /= base;
    }
    return GoFormat4g(v) + prefix;
  }
  static const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  for (int i = 0; i < 8 && std::fabs(v) < 1; ++i) {
    prefix = kSmall[i];
    v *= 1000;
  }
  return GoFormat4g(v) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return GoFormat4g(v);
  if (v == 0) return GoFormat4g(v) + "s";
  if (std::fabs(v) >= 1) {
    const std::string sign = v < 0 ? "-" : "";
    v = std::fabs(v);
    const auto d = static_cast<int64_t>(v);
    const int64_t s = d % 60, m = d / 60 % 60, h = d / 3600 % 24, days = d / 86400;
    char buf[96];
    if (days != 0) {
      std::snprintf(buf, sizeof buf, "%s%lldd %lldh %lldm %llds", sign.c_str(),
                    static_cast<long long>(days), static_cast<long long>(h),
                    static_cast<long long>(m), static_cast<long long>(s));
    } else if (h != 0) {
      std::snprintf(buf, sizeof buf, "%s%lldh %lldm %llds", sign.c_str(), static_cast<long long>(h),
                    static_cast<long long>(m), static_cast<long long>(s));
    } else if (m != 0) {
      std::snprintf(buf, sizeof buf, "%s%lldm %llds", sign.c_str(), static_cast<long long>(m),
                    static_cast<long long>(s));
    } else {
      return sign + GoFormat4g(v) + "s";
    }
    return buf;
  }
  std::string prefix;
  static const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  for (int i = 0; i < 8 && std::fabs(v) < 1; ++i) {
    prefix = kSmall[i];
    v *= 1000;
  }
  return GoFormat4g(v) + prefix + "s";
}

// Splits a pipeline command into words, keeping "quoted strings" whole.
std::vector<std::string> Words(std::string_view cmd) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < cmd.size()) {
    if (std::isspace(static_cast<unsigned char>(cmd[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    if (cmd[i] == '"') {
      for (++j; j < cmd.size() && cmd[j] != '"'; ++j) {
        if (cmd[j] == '\\') ++j;
      }
      ++j;
    } else {
      while (j < cmd.size() && !std::isspace(static_cast<unsigned char>(cmd[j]))) ++j;
    }
    out.emplace_back(cmd.substr(i, std::min(j, cmd.size()) - i));
    i = j;
  }
  return out;
}

std::string Unquote(const std::string& word) {
  std::string out;
  for (size_t i = 1; i + 1 < word.size(); ++i) {
    if (word[i] == '\\' && i + 2 < word.size()) {
      const char c = word[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += word[i];
    }
  }
  return out;
}

Result<Value> Operand(const std::string& word, const AlertTemplateData& data) {
  auto label_of = [](const Labels* set, std::string_view name) -> Value {
    return set ? std::string(set->Get(name)) : std::string();
  };
  if (word.size() >= 2 && word.front() == '"') return Value(Unquote(word));
  if (word == "$value" || word == ".Value") return Value(data.value);
  if (word == "$externalURL" || word == ".ExternalURL") return Value(data.external_url);
  for (const auto& [prefix, set] :
       {std::pair<std::string_view, const Labels*>{"$labels.", data.labels},
        {".Labels.", data.labels},
        {"$externalLabels.", data.external_labels},
        {".ExternalLabels.", data.external_labels}}) {
    if (word.starts_with(prefix))
      return label_of(set, std::string_view(word).substr(prefix.size()));
  }
  if (!word.empty() && (std::isdigit(static_cast<unsigned char>(word[0])) || word[0] == '-')) {
    auto n = ToNumber(Value(word));
    if (!n.ok()) return n.status();
    return Value(*n);
  }
  return Status::InvalidArgument("unsupported template operand " + word);
}

Result<Value> Printf(const std::vector<Value>& args) {
  if (args.empty()) return Status::InvalidArgument("printf needs a format");
  const std::string format = ToText(args[0]);
  if (args.size() == 1) return Value(format);
  char buf[256];
  if (std::holds_alternative<std::string>(args[1]) && format.find('s') != std::string::npos) {
    std::snprintf(buf, sizeof buf, format.c_str(), std::get<std::string>(args[1]).c_str());
    return Value(std::string(buf));
  }
  auto n = ToNumber(args[1]);
  if (!n.ok()) return n.status();
  std::snprintf(buf, sizeof buf, format.c_str(), *n);
  return Value(std::string(buf));
}

// Applies function `fn` to `args` (the piped value, if any, comes last).
Result<Value> Call(const std::string& fn, const std::vector<Value>& args) {
  if (fn == "printf") return Printf(args);
  if (args.size() != 1) return Status::InvalidArgument("wrong number of args for " + fn);
  if (fn == "toUpper" || fn == "toLower") {
    std::string s = ToText(args[0]);
    for (char& c : s) c = static_cast<char>(fn == "toUpper" ? std::toupper(c) : std::tolower(c));
    return Value(s);
  }
  auto v = ToNumber(args[0]);
  if (!v.ok()) return v.status();
  if (fn == "humanize") return Value(Humanize(*v, 1000, false));
  if (fn == "humanize1024") return Value(Humanize(*v, 1024, true));
  if (fn == "humanizePercentage") return Value(GoFormat4g(*v * 100) + "%");
  if (fn == "humanizeDuration") return Value(HumanizeDuration(*v));
  return Status::InvalidArgument("function \"" + fn + "\" not defined");
}

Result<std::string> EvalAction(std::string_view action, const AlertTemplateData& data) {
  std::optional<Value> piped;
  size_t start = 0;
  while (start <= action.size()) {
    size_t bar = action.find('|', start);
    const std::string_view cmd =
        action.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    const std::vector<std::string> words = Words(cmd);
    if (words.empty()) return Status::InvalidArgument("missing value for command");
    Value result;
    const bool is_function = std::isalpha(static_cast<unsigned char>(words[0][0]));
    if (is_function) {
      std::vector<Value> args;
      for (size_t i = 1; i < words.size(); ++i) {
        auto a = Operand(words[i], data);
        if (!a.ok()) return a.status();
        args.push_back(std::move(*a));
      }
      if (piped) args.push_back(*piped);
      auto r = Call(words[0], args);
      if (!r.ok()) return r.status();
      result = std::move(*r);
    } else {
      if (words.size() != 1 || piped)
        return Status::InvalidArgument("can't give argument to non-function " + words[0]);
      auto r = Operand(words[0], data);
      if (!r.ok()) return r.status();
      result = std::move(*r);
    }
    piped = std::move(result);
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return ToText(*piped);
}

}  // namespace

std::string GoFormat4g(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string ExpandAlertTemplate(std::string_view text, const AlertTemplateData& data) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return "<error expanding template: unclosed action>";
    }
    std::string_view chunk = text.substr(pos, open - pos);
    std::string_view action = text.substr(open + 2, close - open - 2);
    if (action.starts_with("- ")) {  // {{- trims the space before
      while (!chunk.empty() && std::isspace(static_cast<unsigned char>(chunk.back())))
        chunk.remove_suffix(1);
      action.remove_prefix(1);
    }
    bool trim_after = false;
    if (action.ends_with(" -")) {
      trim_after = true;
      action.remove_suffix(1);
    }
    out.append(chunk);
    auto value = EvalAction(action, data);
    if (!value.ok()) return "<error expanding template: " + value.status().message() + ">";
    out += *value;
    pos = close + 2;
    if (trim_after) {
      while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    }
  }
  return out;
}

}  // namespace vigil::rules
