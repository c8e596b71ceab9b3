// Command-line flags, parsed the way Prometheus's kingpin parser does:
// --name=value, --name value, --flag / --no-flag for booleans.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace vigil {

// A set of named flags with defaults, help text and value checks.
class FlagSet {
 public:
  // Returns an error message when a value is not acceptable.
  using Validator = std::function<Status(const std::string&)>;

  explicit FlagSet(std::string program) : program_(std::move(program)) {}

  // Declares a flag taking a value. `placeholder` names the value in --help.
  void AddString(std::string name, std::string default_value, std::string help,
                 Validator validate = nullptr, std::string placeholder = "");
  // Declares a boolean flag (--name, --no-name, --name=true|false).
  void AddBool(std::string name, bool default_value, std::string help);
  // Declares a flag that may repeat; values() returns all of them.
  void AddRepeated(std::string name, std::string help);

  // Parses argv; non-flag arguments are collected in positional().
  // "--help"/"-h"/"--help-long" and "--version" set help()/version().
  Status Parse(const std::vector<std::string>& args);

  const std::string& Get(std::string_view name) const;
  bool GetBool(std::string_view name) const;
  const std::vector<std::string>& GetAll(std::string_view name) const;
  // Whether the flag was given on the command line.
  bool IsSet(std::string_view name) const;

  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }
  bool version() const { return version_; }

  // The --help text.
  std::string Usage() const;
  // The names of all declared flags, sorted.
  std::vector<std::string> Names() const;
  // Every flag and its effective value, sorted by name (for /status/flags).
  std::vector<std::pair<std::string, std::string>> Values() const;

 private:
  enum class Kind { kString, kBool, kRepeated };
  struct Flag {
    Kind kind;
    std::string value;
    std::vector<std::string> values;
    std::string help;
    std::string placeholder;
    Validator validate;
    bool set = false;
  };
  const Flag& Find(std::string_view name) const;
  Status SetValue(const std::string& name, Flag& flag, const std::string& value);

  std::string program_;
  std::map<std::string, Flag, std::less<>> flags_;
  std::vector<std::string> positional_;
  bool help_ = false;
  bool version_ = false;
};

// Validators shared by several flags.
Status ValidateDuration(const std::string& v);
Status ValidateByteSize(const std::string& v);
// Accepts "" too (flag unset).
Status ValidateOptionalByteSize(const std::string& v);
Status ValidatePositiveInt(const std::string& v);
FlagSet::Validator ValidateOneOf(std::vector<std::string> allowed);

}  // namespace vigil
