// The server's command-line flags: Prometheus 2.42's names and defaults, plus
// Vigil's own (documented in --help), turned into component options.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/logger.h"
#include "config/config.h"
#include "promql/engine.h"
#include "src/flags.h"
#include "storage/storage.h"
#include "web/server.h"

namespace vigil {

// Declares every server flag on `flags`.
void DefineServerFlags(FlagSet& flags);

// What a server flag does in Vigil, compared with Prometheus 2.48.
enum class FlagVerdict {
  kWorks,      // behaves as the Prometheus flag of the same name
  kVigilOnly,  // Vigil's own flag, no Prometheus counterpart
  // Accepted so existing command lines start; it only tunes Prometheus
  // internals (blocks, WAL segments, UI assets...) or a feature Vigil lacks,
  // so giving it logs a warning at start naming it.
  kWarnedNoEffect,
  // Agent-mode flags: Prometheus in server mode refuses them, and so does
  // Vigil (it has no agent mode) with an error naming the flag.
  kRefusedAgentOnly,
};

struct FlagAudit {
  std::string_view name;
  FlagVerdict verdict;
  std::string_view note;  // why, for the warning/error and the README
};

// One entry per flag DefineServerFlags declares (a test keeps them equal).
const std::vector<FlagAudit>& ServerFlagAudit();

// Component options derived from parsed flags.
struct ServerSettings {
  std::string config_file;
  config::LoadOptions config_load;  // --enable-feature=expand-external-labels
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kLogfmt;
  storage::StorageOptions storage;
  promql::EngineOptions engine;
  web::ServerOptions web;
  int64_t alert_resend_delay_ms = 60'000;            // --rules.alert.resend-delay
  int64_t alert_for_outage_tolerance_ms = 3600'000;  // --rules.alert.for-outage-tolerance
  int64_t alert_for_grace_period_ms = 600'000;       // --rules.alert.for-grace-period
  int64_t notification_queue_capacity = 10'000;      // --alertmanager.notification-queue-capacity
  int64_t remote_write_backlog_ms = 2 * 3600'000;    // --storage.remote.max-backlog
  // Where alerts link back to (generatorURL): --web.external-url, else
  // http://<hostname>:<port>, as Prometheus computes it.
  std::string external_url;
  // --enable-feature names Vigil does not implement; logged as warnings at start.
  std::vector<std::string> unsupported_features;
  // Flags given on the command line whose verdict is kWarnedNoEffect.
  std::vector<FlagAudit> no_effect_flags;
};

// Converts parsed flags into settings; fails on values that each flag's own
// validator cannot judge alone.
Result<ServerSettings> SettingsFromFlags(const FlagSet& flags);

}  // namespace vigil
