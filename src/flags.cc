#include "src/flags.h"

#include <charconv>
#include <stdexcept>

#include "base/duration.h"

namespace vigil {

void FlagSet::AddString(std::string name, std::string default_value, std::string help,
                        Validator validate, std::string placeholder) {
  flags_[std::move(name)] = Flag{Kind::kString, std::move(default_value), {}, std::move(help),
                                 std::move(placeholder), std::move(validate)};
}

void FlagSet::AddBool(std::string name, bool default_value, std::string help) {
  flags_[std::move(name)] =
      Flag{Kind::kBool, default_value ? "true" : "false", {}, std::move(help), "", nullptr};
}

void FlagSet::AddRepeated(std::string name, std::string help) {
  flags_[std::move(name)] = Flag{Kind::kRepeated, "", {}, std::move(help), "", nullptr};
}

const FlagSet::Flag& FlagSet::Find(std::string_view name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) throw std::logic_error("undeclared flag: " + std::string(name));
  return it->second;
}

const std::string& FlagSet::Get(std::string_view name) const { return Find(name).value; }
bool FlagSet::GetBool(std::string_view name) const { return Find(name).value == "true"; }
const std::vector<std::string>& FlagSet::GetAll(std::string_view name) const {
  return Find(name).values;
}
bool FlagSet::IsSet(std::string_view name) const { return Find(name).set; }

Status FlagSet::SetValue(const std::string& name, Flag& flag, const std::string& value) {
  if (flag.validate) {
    Status st = flag.validate(value);
    if (!st.ok()) {
      return Status::InvalidArgument("invalid value \"" + value + "\" for flag --" + name + ": " +
                                     st.message());
    }
  }
  if (flag.kind == Kind::kRepeated) {
    flag.values.push_back(value);
  } else {
    flag.value = value;
  }
  flag.set = true;
  return Status::OK();
}

Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h" || arg == "--help-long") {
      help_ = true;
      continue;
    }
    if (arg == "--version") {
      version_ = true;
      continue;
    }
    if (arg == "--") {
      positional_.insert(positional_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (!arg.starts_with("--")) {
      if (arg.size() > 1 && arg[0] == '-') {
        return Status::InvalidArgument("unknown short flag '" + arg + "'");
      }
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    auto it = flags_.find(name);
    if (it == flags_.end() && !has_value && name.starts_with("no-")) {
      auto neg = flags_.find(name.substr(3));
      if (neg != flags_.end() && neg->second.kind == Kind::kBool) {
        neg->second.value = "false";
        neg->second.set = true;
        continue;
      }
    }
    if (it == flags_.end()) {
      return Status::InvalidArgument("unknown long flag '--" + name + "'");
    }
    Flag& flag = it->second;
    if (flag.kind == Kind::kBool) {
      if (has_value && value != "true" && value != "false") {
        return Status::InvalidArgument("invalid boolean value \"" + value + "\" for flag --" +
                                       name);
      }
      flag.value = has_value ? value : "true";
      flag.set = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return Status::InvalidArgument("expected argument for flag '--" + name + "'");
      }
      value = args[++i];
    }
    VIGIL_RETURN_IF_ERROR(SetValue(name, flag, value));
  }
  return Status::OK();
}

std::string FlagSet::Usage() const {
  std::string out = "usage: " + program_ + " [<flags>] [<command> ...]\n\nFlags:\n";
  out += "  -h, --help  Show context-sensitive help.\n      --version  Show application version.\n";
  for (const auto& [name, flag] : flags_) {
    std::string left = "      --";
    if (flag.kind == Kind::kBool) left += "[no-]";
    left += name;
    if (flag.kind != Kind::kBool) {
      left += "=" + (flag.placeholder.empty() ? std::string("VALUE") : flag.placeholder);
    }
    out += left + "\n                 " + flag.help;
    if (flag.kind == Kind::kString && !flag.value.empty()) {
      out += " (default: " + flag.value + ")";
    }
    out += "\n";
  }
  return out;
}

std::vector<std::string> FlagSet::Names() const {
  std::vector<std::string> out;
  for (const auto& entry : flags_) out.push_back(entry.first);
  return out;
}

std::vector<std::pair<std::string, std::string>> FlagSet::Values() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, flag] : flags_) {
    if (flag.kind == Kind::kRepeated) {
      std::string joined;
      for (const auto& v : flag.values) joined += (joined.empty() ? "" : ",") + v;
      out.emplace_back(name, joined);
    } else {
      out.emplace_back(name, flag.value);
    }
  }
  return out;
}

Status ValidateDuration(const std::string& v) { return ParseDuration(v).status(); }
Status ValidateByteSize(const std::string& v) { return ParseByteSize(v).status(); }
Status ValidateOptionalByteSize(const std::string& v) {
  if (v.empty() || v == "0") return Status::OK();
  return ValidateByteSize(v);
}

Status ValidatePositiveInt(const std::string& v) {
  int64_t n = 0;
  auto res = std::from_chars(v.data(), v.data() + v.size(), n);
  if (res.ec != std::errc() || res.ptr != v.data() + v.size() || n <= 0) {
    return Status::InvalidArgument("expected a positive integer");
  }
  return Status::OK();
}

FlagSet::Validator ValidateOneOf(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](const std::string& v) -> Status {
    for (const auto& a : allowed) {
      if (a == v) return Status::OK();
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Status::InvalidArgument("must be one of: " + list);
  };
}

}  // namespace vigil
