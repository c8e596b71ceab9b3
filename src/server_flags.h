// The server's command-line flags: Prometheus 2.42's names and defaults, plus
// Vigil's own (documented in --help), turned into component options.
#pragma once

#include <string>
#include <vector>

#include "base/logger.h"
#include "promql/engine.h"
#include "src/flags.h"
#include "storage/storage.h"
#include "web/server.h"

namespace vigil {

// Declares every server flag on `flags`.
void DefineServerFlags(FlagSet& flags);

// Component options derived from parsed flags.
struct ServerSettings {
  std::string config_file;
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
};

// Converts parsed flags into settings; fails on values that each flag's own
// validator cannot judge alone.
Result<ServerSettings> SettingsFromFlags(const FlagSet& flags);

}  // namespace vigil
