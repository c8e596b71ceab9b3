// Logger: Prometheus-style structured log lines, logfmt or JSON:
//   ts=2026-11-25T16:24:27.123Z caller=main.cc:42 level=info msg="Server is ready" port=9090
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace vigil {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kLogfmt, kJson };

struct LogField {
  std::string_view key;
  std::string value;
};

// Sets the minimum level and the line format for the whole process.
void ConfigureLogging(LogLevel level, LogFormat format);
bool LogEnabled(LogLevel level);

// Writes one line to stderr (thread-safe). Prefer the VLOG_* macros.
void LogLine(LogLevel level, const char* file, int line, std::string_view msg,
             std::initializer_list<LogField> fields = {});

}  // namespace vigil

#define VLOG_DEBUG(...)                                                   \
  do {                                                                    \
    if (::vigil::LogEnabled(::vigil::LogLevel::kDebug))                   \
      ::vigil::LogLine(::vigil::LogLevel::kDebug, __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#define VLOG_INFO(...) ::vigil::LogLine(::vigil::LogLevel::kInfo, __FILE__, __LINE__, __VA_ARGS__)
#define VLOG_WARN(...) ::vigil::LogLine(::vigil::LogLevel::kWarn, __FILE__, __LINE__, __VA_ARGS__)
#define VLOG_ERROR(...) ::vigil::LogLine(::vigil::LogLevel::kError, __FILE__, __LINE__, __VA_ARGS__)
