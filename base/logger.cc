#include "base/logger.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "base/clock.h"

namespace vigil {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<LogFormat> g_format{LogFormat::kLogfmt};
std::mutex g_mu;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Timestamp() {
  using namespace std::chrono;
  return FormatRfc3339Millis(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string_view BaseName(const char* file) {
  std::string_view f(file);
  auto slash = f.rfind('/');
  return slash == std::string_view::npos ? f : f.substr(slash + 1);
}

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  out += '"';
}

void AppendLogfmt(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += key;
  out += '=';
  if (NeedsQuoting(value)) {
    AppendQuoted(out, value);
  } else {
    out += value;
  }
}

void AppendJson(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() > 1 ? "," : "";
  AppendQuoted(out, key);
  out += ':';
  AppendQuoted(out, value);
}

}  // namespace

void ConfigureLogging(LogLevel level, LogFormat format) {
  g_level = static_cast<int>(level);
  g_format = format;
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void LogLine(LogLevel level, const char* file, int line, std::string_view msg,
             std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  const bool json = g_format.load() == LogFormat::kJson;
  auto append = json ? AppendJson : AppendLogfmt;
  std::string out = json ? "{" : "";
  append(out, "ts", Timestamp());
  append(out, "caller", std::string(BaseName(file)) + ":" + std::to_string(line));
  append(out, "level", LevelName(level));
  append(out, "msg", msg);
  for (const auto& f : fields) append(out, f.key, f.value);
  out += json ? "}\n" : "\n";
  std::lock_guard lock(g_mu);
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace vigil
