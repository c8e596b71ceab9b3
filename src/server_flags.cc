#include "src/server_flags.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "src/retention_rules_file.h"
#include "src/version.h"
#include "base/duration.h"

namespace vigil {
namespace {

int64_t DurationFlag(const FlagSet& flags, std::string_view name) {
  return ParseDuration(flags.Get(name)).value();  // validated while parsing
}

int64_t IntFlag(const FlagSet& flags, std::string_view name) {
  int64_t n = 0;
  const std::string& v = flags.Get(name);
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

// 0 means "no limit" for these, as in Prometheus.
Status ValidateNonNegativeInt(const std::string& v) {
  int64_t n = 0;
  auto res = std::from_chars(v.data(), v.data() + v.size(), n);
  if (res.ec != std::errc() || res.ptr != v.data() + v.size() || n < 0) {
    return Status::InvalidArgument("expected a non-negative integer");
  }
  return Status::OK();
}

Status ValidateListenAddress(const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("missing port in address");
  int port = -1;
  auto port_text = std::string_view(v).substr(colon + 1);
  auto res = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (res.ec != std::errc() || res.ptr != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    return Status::InvalidArgument("invalid port");
  }
  return Status::OK();
}

Result<storage::WalSyncPolicy> ParseWalSync(const std::string& v) {
  if (v == "always") return storage::WalSyncPolicy::kEveryCommit;
  if (v == "periodic") return storage::WalSyncPolicy::kPeriodic;
  if (v == "never") return storage::WalSyncPolicy::kNever;
  return Status::InvalidArgument("unknown wal fsync policy " + v);
}

// Prometheus derives the route prefix from the external URL's path when unset.
std::string RoutePrefix(const FlagSet& flags) {
  std::string prefix = flags.Get("web.route-prefix");
  if (prefix.empty()) {
    const std::string& url = flags.Get("web.external-url");
    auto scheme = url.find("://");
    auto path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    prefix = path == std::string::npos ? "/" : url.substr(path);
  }
  if (prefix.empty() || prefix[0] != '/') prefix = "/" + prefix;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  return prefix;
}

// Prometheus 2.42/2.48 flags Vigil accepts so an existing command line keeps
// working, and shows in /api/v1/status/flags as Prometheus does, but that
// configure nothing here (block layout: Vigil stores chunks in RocksDB, not
// blocks; the m-mapped head chunk queue; scrape timestamp alignment), plus the
// agent-mode flags, refused when given. ServerFlagAudit() says which is which.
void DefineCompatibilityFlags(FlagSet& f) {
  auto duration = ValidateDuration;
  auto size = ValidateByteSize;
  f.AddString("web.local-assets", "console_libraries/../web/",
              "Path to static asset/templates directory (accepted, unused: the UI is embedded).");
  f.AddString("alertmanager.timeout", "", "Timeout for sending alerts to Alertmanager (accepted).");
  f.AddString("storage.tsdb.retention", "0s",
              "[DEPRECATED] How long to retain samples in storage. Use "
              "\"storage.tsdb.retention.time\" instead.",
              duration, "STORAGE.TSDB.RETENTION");
  f.AddBool("storage.tsdb.use-lockfile", true,
            "Create a lockfile in data directory (accepted: Vigil always locks its data "
            "directory, RocksDB needs exclusive access).");
  f.AddBool("storage.tsdb.allow-overlapping-blocks", true,
            "[DEPRECATED] Overlapping blocks (accepted, unused).");
  f.AddString("storage.tsdb.min-block-duration", "2h",
              "Minimum duration of a data block (accepted, unused: no blocks).", duration);
  f.AddString("storage.tsdb.max-block-duration", "1d12h",
              "Maximum duration of a compacted block (accepted, unused: no blocks).", duration);
  f.AddString("storage.tsdb.wal-segment-size", "0B", "Size of a WAL segment (accepted, unused).",
              size);
  f.AddString("storage.tsdb.max-block-chunk-segment-size", "0B",
              "Maximum size of a chunk segment file (accepted, unused).", size);
  f.AddString("storage.tsdb.head-chunks-write-queue-size", "0",
              "Size of the head chunk write queue (accepted, unused).");
  f.AddString("storage.tsdb.samples-per-chunk", "120",
              "Target number of samples per chunk (accepted, unused).", ValidatePositiveInt);
  f.AddString("storage.tsdb.wal-compression-type", "snappy",
              "Compression algorithm for the tsdb WAL (accepted, unused).",
              ValidateOneOf({"snappy", "zstd"}));
  // Agent mode only: refused when given, as Prometheus refuses them in server mode.
  f.AddString("storage.agent.path", "data-agent/", "Agent mode only (refused: no agent mode).");
  f.AddBool("storage.agent.wal-compression", true, "Agent mode only (refused).");
  f.AddString("storage.agent.wal-compression-type", "snappy", "Agent mode only (refused).");
  f.AddString("storage.agent.retention.min-time", "0s", "Agent mode only (refused).");
  f.AddString("storage.agent.retention.max-time", "0s", "Agent mode only (refused).");
  f.AddBool("storage.agent.use-lockfile", false, "Agent mode only (refused).");
  f.AddBool("storage.agent.no-lockfile", false, "Agent mode only (refused).");
  f.AddString("storage.agent.wal-segment-size", "0B", "Agent mode only (refused).");
  f.AddString("storage.agent.wal-truncate-frequency", "0s", "Agent mode only (refused).");
  f.AddString("storage.remote.read-max-bytes-in-frame", "1048576",
              "Maximum bytes in a frame of a streamed remote read response (accepted: Vigil "
              "answers remote read with sampled responses only).");
  f.AddBool("scrape.adjust-timestamps", true,
            "Adjust scrape timestamps by up to scrape.timestamp-tolerance (accepted, unused).");
  f.AddString("scrape.timestamp-tolerance", "2ms", "Timestamp tolerance (accepted, unused).",
              duration);
  f.AddString("scrape.discovery-reload-interval", "5s",
              "Interval used by scrape manager to throttle target groups updates (accepted).",
              duration);
  f.AddString("web.config.file", "",
              "[EXPERIMENTAL] Path to configuration file that can enable TLS or authentication.");
}

constexpr auto kWorks = FlagVerdict::kWorks;
constexpr auto kVigilOnly = FlagVerdict::kVigilOnly;
constexpr auto kWarned = FlagVerdict::kWarnedNoEffect;
constexpr auto kAgentOnly = FlagVerdict::kRefusedAgentOnly;
constexpr std::string_view kNoBlocks = "Vigil stores chunks in RocksDB, not in TSDB blocks";
constexpr std::string_view kNoAgent = "Vigil has no agent mode";

}  // namespace

const std::vector<FlagAudit>& ServerFlagAudit() {
  static const std::vector<FlagAudit> audit = {
      {"config.file", kWorks, ""},
      {"web.listen-address", kWorks, ""},
      {"web.read-timeout", kWorks, ""},
      {"web.max-connections", kWorks, ""},
      {"web.external-url", kWorks, ""},
      {"web.route-prefix", kWorks, ""},
      {"web.enable-lifecycle", kWorks, ""},
      {"web.enable-admin-api", kWorks, ""},
      {"web.enable-remote-write-receiver", kWorks, ""},
      {"web.cors.origin", kWorks, ""},
      {"web.config.file", kWorks, ""},
      {"web.user-assets", kWarned, "Vigil does not serve /user/ assets"},
      {"web.console.templates", kWarned, "Vigil does not serve console templates"},
      {"web.console.libraries", kWarned, "Vigil does not serve console templates"},
      {"web.page-title", kWarned, "the embedded UI has a fixed title"},
      {"web.local-assets", kWarned, "the UI is embedded in the binary"},
      {"storage.tsdb.path", kWorks, ""},
      {"storage.tsdb.retention", kWorks, "deprecated, as in Prometheus"},
      {"storage.tsdb.retention.time", kWorks, ""},
      {"storage.tsdb.retention.size", kWorks, ""},
      {"storage.tsdb.no-lockfile", kWorks, ""},
      {"storage.tsdb.use-lockfile", kWorks, "Debian's name: --no-storage.tsdb.use-lockfile"},
      {"storage.tsdb.retention.rules-file", kVigilOnly, ""},
      {"storage.tsdb.max-time-ahead", kVigilOnly, ""},
      {"storage.tsdb.wal-fsync", kVigilOnly, ""},
      {"storage.tsdb.wal-fsync-interval", kVigilOnly, ""},
      {"storage.tsdb.out-of-order-time-window", kVigilOnly,
       "Prometheus sets it in the config file's storage section"},
      {"storage.tsdb.wal-compression", kWarned, "Vigil's WAL has its own format"},
      {"storage.tsdb.wal-compression-type", kWarned, "Vigil's WAL has its own format"},
      {"storage.tsdb.samples-per-chunk", kWarned, kNoBlocks},
      {"storage.tsdb.allow-overlapping-blocks", kWarned, kNoBlocks},
      {"storage.tsdb.min-block-duration", kWarned, kNoBlocks},
      {"storage.tsdb.max-block-duration", kWarned, kNoBlocks},
      {"storage.tsdb.wal-segment-size", kWarned, "Vigil's WAL has its own format"},
      {"storage.tsdb.max-block-chunk-segment-size", kWarned, kNoBlocks},
      {"storage.tsdb.head-chunks-write-queue-size", kWarned, kNoBlocks},
      {"storage.agent.path", kAgentOnly, kNoAgent},
      {"storage.agent.wal-compression", kAgentOnly, kNoAgent},
      {"storage.agent.wal-compression-type", kAgentOnly, kNoAgent},
      {"storage.agent.retention.min-time", kAgentOnly, kNoAgent},
      {"storage.agent.retention.max-time", kAgentOnly, kNoAgent},
      {"storage.agent.use-lockfile", kAgentOnly, kNoAgent},
      {"storage.agent.no-lockfile", kAgentOnly, kNoAgent},
      {"storage.agent.wal-segment-size", kAgentOnly, kNoAgent},
      {"storage.agent.wal-truncate-frequency", kAgentOnly, kNoAgent},
      {"storage.remote.flush-deadline", kWarned,
       "remote write queues resume from the WAL after a restart"},
      {"storage.remote.max-backlog", kVigilOnly, ""},
      {"storage.remote.read-sample-limit", kWorks, ""},
      {"storage.remote.read-concurrent-limit", kWorks, ""},
      {"storage.remote.read-max-bytes-in-frame", kWarned,
       "Vigil answers remote read with sampled responses only"},
      {"rules.alert.for-outage-tolerance", kWorks, ""},
      {"rules.alert.for-grace-period", kWorks, ""},
      {"rules.alert.resend-delay", kWorks, ""},
      {"alertmanager.notification-queue-capacity", kWorks, ""},
      {"alertmanager.timeout", kWarned, "deprecated, no effect in Prometheus either"},
      {"query.lookback-delta", kWorks, ""},
      {"query.timeout", kWorks, ""},
      {"query.max-concurrency", kWorks, ""},
      {"query.max-samples", kWorks, ""},
      {"enable-feature", kWorks,
       "otlp-write-receiver and expand-external-labels work; agent is refused; other names are "
       "warned at start"},
      {"scrape.adjust-timestamps", kWarned, "Vigil does not align scrape timestamps"},
      {"scrape.timestamp-tolerance", kWarned, "Vigil does not align scrape timestamps"},
      {"scrape.discovery-reload-interval", kWarned, "target updates are applied as they come"},
      {"log.level", kWorks, ""},
      {"log.format", kWorks, ""},
  };
  return audit;
}

namespace {

// Flags whose verdict is kWarnedNoEffect or kRefusedAgentOnly, when given.
Status CheckAuditedFlags(const FlagSet& f, std::vector<FlagAudit>& warned) {
  for (const FlagAudit& entry : ServerFlagAudit()) {
    if (!f.IsSet(entry.name)) continue;
    if (entry.verdict == FlagVerdict::kRefusedAgentOnly) {
      return Status::InvalidArgument("flag --" + std::string(entry.name) +
                                     " can only be used in agent mode, and " +
                                     std::string(kNoAgent));
    }
    if (entry.verdict == FlagVerdict::kWarnedNoEffect) warned.push_back(entry);
  }
  return Status::OK();
}

// --web.external-url without a trailing slash, or http://<hostname>:<port>.
std::string ExternalUrl(const FlagSet& flags) {
  std::string url = flags.Get("web.external-url");
  if (url.empty()) {
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    const std::string& listen = flags.Get("web.listen-address");
    url = "http://" + std::string(host) + listen.substr(listen.rfind(':'));
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

void DefineServerFlags(FlagSet& f) {
  auto duration = ValidateDuration;
  f.AddString("config.file", "prometheus.yml", "Vigil configuration file path.", nullptr,
              "CONFIG.FILE");
  f.AddString("web.listen-address", "0.0.0.0:9090",
              "Address to listen on for UI, API, and telemetry.", ValidateListenAddress,
              "WEB.LISTEN-ADDRESS");
  f.AddString("web.read-timeout", "5m",
              "Maximum duration before timing out read of the request, and closing idle "
              "connections.",
              duration, "WEB.READ-TIMEOUT");
  f.AddString("web.max-connections", "512", "Maximum number of simultaneous connections.",
              ValidatePositiveInt, "WEB.MAX-CONNECTIONS");
  f.AddString("web.external-url", "",
              "The URL under which Vigil is externally reachable (for example, if Vigil is "
              "served via a reverse proxy).",
              nullptr, "WEB.EXTERNAL-URL");
  f.AddString("web.route-prefix", "",
              "Prefix for the internal routes of web endpoints. Defaults to path of "
              "--web.external-url.",
              nullptr, "WEB.ROUTE-PREFIX");
  f.AddString("web.user-assets", "", "Path to static asset directory (accepted, unused).");
  f.AddBool("web.enable-lifecycle", false, "Enable shutdown and reload via HTTP request.");
  f.AddBool("web.enable-admin-api", false, "Enable API endpoints for admin control actions.");
  f.AddBool("web.enable-remote-write-receiver", false,
            "Enable API endpoint accepting remote write requests.");
  f.AddString("web.console.templates", "consoles", "Path to the console template directory.");
  f.AddString("web.console.libraries", "console_libraries",
              "Path to the console library directory.");
  f.AddString("web.page-title", "Vigil Time Series Collection and Processing Server",
              "Document title of the web UI.");
  f.AddString("web.cors.origin", ".*",
              "Regex for CORS origin. It is fully anchored. Example: "
              "'https?://(domain1|domain2)\\.com'");
  f.AddString("storage.tsdb.path", "data/", "Base path for metrics storage.", nullptr,
              "STORAGE.TSDB.PATH");
  f.AddString("storage.tsdb.retention.time", "30d",
              "How long to retain samples in storage, measured from the newest sample. Units "
              "supported: y, w, d, h, m, s, ms.",
              duration, "STORAGE.TSDB.RETENTION.TIME");
  f.AddString("storage.tsdb.retention.size", "0B",
              "Maximum number of bytes that can be stored for blocks. Units supported: B, KB, "
              "MB, GB, TB, PB, EB. Ex: \"512MB\". 0 or unset disables it.",
              ValidateOptionalByteSize, "STORAGE.TSDB.RETENTION.SIZE");
  f.AddString("storage.tsdb.retention.rules-file", "",
              "Vigil only: YAML file of per-metric retention rules ({match, retention} pairs; "
              "the first matching rule sets a series' retention).",
              nullptr, "FILE");
  f.AddBool("storage.tsdb.no-lockfile", false, "Do not create lockfile in data directory.");
  f.AddString("storage.tsdb.max-time-ahead", "10m",
              "Vigil only: refuse samples (scrape, remote write, rules, import) stamped more "
              "than this ahead of the wall clock, as out of bounds, counted in "
              "vigil_tsdb_too_far_in_future_samples_total. Retention and the appendable window "
              "are never measured from beyond the clock. 0 disables the check.",
              duration);
  f.AddBool("storage.tsdb.wal-compression", true, "Compress the WAL (accepted for compatibility).");
  f.AddString("storage.tsdb.wal-fsync", "periodic",
              "Vigil: when the WAL reaches the disk. 'periodic': written before an append is "
              "acknowledged (survives kill -9), fsynced every --storage.tsdb.wal-fsync-interval; "
              "'always': fsync before acknowledging (survives power loss); 'never'.",
              ValidateOneOf({"periodic", "always", "never"}));
  f.AddString("storage.tsdb.wal-fsync-interval", "1s",
              "Vigil: fsync interval of the 'periodic' WAL policy.", duration);
  f.AddString("storage.tsdb.out-of-order-time-window", "0s",
              "Vigil: accept samples this much older than a series' newest sample (0 rejects "
              "out-of-order samples, as Prometheus 2.42 by default).",
              duration);
  f.AddString("storage.remote.flush-deadline", "1m",
              "How long to wait flushing sample on shutdown or config reload.", duration);
  f.AddString("storage.remote.max-backlog", "2h",
              "Vigil only: a remote write queue that falls further behind than this (receiver "
              "down) gives up the older samples, counted in "
              "vigil_remote_storage_samples_backlog_dropped_total and logged. 0: never.",
              duration);
  f.AddString("storage.remote.read-sample-limit", "50000000",
              "Maximum overall number of samples to return via the remote read interface, in "
              "a single query. 0 means no limit.",
              ValidateNonNegativeInt);
  f.AddString("storage.remote.read-concurrent-limit", "10",
              "Maximum number of concurrent remote read calls. 0 means no limit.",
              ValidateNonNegativeInt);
  f.AddString("rules.alert.for-outage-tolerance", "1h",
              "Max time to tolerate prometheus outage for restoring \"for\" state of alert.",
              duration);
  f.AddString("rules.alert.for-grace-period", "10m",
              "Minimum duration between alert and restored \"for\" state.", duration);
  f.AddString("rules.alert.resend-delay", "1m",
              "Minimum amount of time to wait before resending an alert to Alertmanager.",
              duration);
  f.AddString("alertmanager.notification-queue-capacity", "10000",
              "The capacity of the queue for pending Alertmanager notifications.",
              ValidatePositiveInt);
  f.AddString("query.lookback-delta", "5m",
              "The maximum lookback duration for retrieving metrics during expression "
              "evaluations and federation.",
              duration);
  f.AddString("query.timeout", "2m", "Maximum time a query may take before being aborted.",
              duration);
  f.AddString("query.max-concurrency", "20", "Maximum number of queries executed concurrently.",
              ValidatePositiveInt);
  f.AddString("query.max-samples", "50000000",
              "Maximum number of samples a single query can load into memory.",
              ValidatePositiveInt);
  f.AddRepeated("enable-feature",
                "Comma separated feature names to enable. Vigil implements otlp-write-receiver and "
                "expand-external-labels; other names are accepted with a warning at start.");
  DefineCompatibilityFlags(f);

  f.AddString("log.level", "info",
              "Only log messages with the given severity or above. One of: [debug, info, warn, "
              "error]",
              ValidateOneOf({"debug", "info", "warn", "error"}));
  f.AddString("log.format", "logfmt", "Output format of log messages. One of: [logfmt, json]",
              ValidateOneOf({"logfmt", "json"}));
}

Result<ServerSettings> SettingsFromFlags(const FlagSet& f) {
  ServerSettings s;
  VIGIL_RETURN_IF_ERROR(CheckAuditedFlags(f, s.no_effect_flags));
  s.config_file = f.Get("config.file");
  const std::string& level = f.Get("log.level");
  s.log_level = level == "debug"   ? LogLevel::kDebug
                : level == "warn"  ? LogLevel::kWarn
                : level == "error" ? LogLevel::kError
                                   : LogLevel::kInfo;
  s.log_format = f.Get("log.format") == "json" ? LogFormat::kJson : LogFormat::kLogfmt;

  s.storage.path = f.Get("storage.tsdb.path");
  s.storage.retention_ms = DurationFlag(f, "storage.tsdb.retention.time");
  // The deprecated flag counts only when the new one was not given (as Prometheus).
  if (f.IsSet("storage.tsdb.retention") && !f.IsSet("storage.tsdb.retention.time")) {
    s.storage.retention_ms = DurationFlag(f, "storage.tsdb.retention");
  }
  const std::string& size = f.Get("storage.tsdb.retention.size");
  s.storage.retention_bytes = size.empty() || size == "0" ? 0 : ParseByteSize(size).value();
  if (const std::string& rules = f.Get("storage.tsdb.retention.rules-file"); !rules.empty()) {
    auto loaded = LoadRetentionRulesFile(rules);
    if (!loaded.ok()) return loaded.status();
    s.storage.retention_rules = std::move(loaded).value();
  }
  auto sync = ParseWalSync(f.Get("storage.tsdb.wal-fsync"));
  if (!sync.ok()) return sync.status();
  s.storage.wal_sync = *sync;
  s.storage.wal_sync_interval_ms = DurationFlag(f, "storage.tsdb.wal-fsync-interval");
  s.storage.out_of_order_window_ms = DurationFlag(f, "storage.tsdb.out-of-order-time-window");
  s.storage.max_time_ahead_ms = DurationFlag(f, "storage.tsdb.max-time-ahead");
  s.storage.no_lockfile =
      f.GetBool("storage.tsdb.no-lockfile") || !f.GetBool("storage.tsdb.use-lockfile");

  s.engine.lookback_delta_ms = DurationFlag(f, "query.lookback-delta");
  s.engine.timeout_ms = DurationFlag(f, "query.timeout");
  s.engine.max_concurrency = static_cast<int>(IntFlag(f, "query.max-concurrency"));
  s.engine.max_samples = IntFlag(f, "query.max-samples");

  s.alert_resend_delay_ms = DurationFlag(f, "rules.alert.resend-delay");
  s.alert_for_outage_tolerance_ms = DurationFlag(f, "rules.alert.for-outage-tolerance");
  s.alert_for_grace_period_ms = DurationFlag(f, "rules.alert.for-grace-period");
  s.notification_queue_capacity = IntFlag(f, "alertmanager.notification-queue-capacity");
  s.external_url = ExternalUrl(f);

  s.web.listen_address = f.Get("web.listen-address");
  s.web.external_url = f.Get("web.external-url");
  s.web.route_prefix = RoutePrefix(f);
  s.web.cors_origin = f.Get("web.cors.origin");
  s.web.enable_lifecycle = f.GetBool("web.enable-lifecycle");
  s.web.enable_admin_api = f.GetBool("web.enable-admin-api");
  s.web.enable_remote_write_receiver = f.GetBool("web.enable-remote-write-receiver");
  // --enable-feature takes comma-separated names and may repeat.
  for (const std::string& value : f.GetAll("enable-feature")) {
    size_t start = 0;
    while (start <= value.size()) {
      const size_t comma = std::min(value.find(',', start), value.size());
      const std::string name = value.substr(start, comma - start);
      if (name == "otlp-write-receiver") {
        s.web.enable_otlp_write_receiver = true;
      } else if (name == "expand-external-labels") {
        s.config_load.expand_external_labels = true;
      } else if (name == "agent") {
        return Status::InvalidArgument("--enable-feature=agent: " + std::string(kNoAgent));
      } else if (!name.empty()) {
        s.unsupported_features.push_back(name);
      }
      start = comma + 1;
    }
  }
  s.web.web_config_file = f.Get("web.config.file");
  s.web.max_connections = static_cast<int>(IntFlag(f, "web.max-connections"));
  s.web.read_timeout_ms = DurationFlag(f, "web.read-timeout");
  // Go's http.Server closes idle connections after ReadTimeout; Vigil sooner,
  // as each open connection holds a thread.
  if (s.web.read_timeout_ms > 0) {
    s.web.idle_timeout_ms = std::min(s.web.idle_timeout_ms, s.web.read_timeout_ms);
  }
  s.web.remote_read_sample_limit = IntFlag(f, "storage.remote.read-sample-limit");
  s.web.remote_read_concurrent_limit =
      static_cast<int>(IntFlag(f, "storage.remote.read-concurrent-limit"));
  s.web.remote_read_timeout_ms = s.engine.timeout_ms;
  s.remote_write_backlog_ms = DurationFlag(f, "storage.remote.max-backlog");
  s.web.flags = f.Values();
  s.web.storage_retention = f.Get("storage.tsdb.retention.time");
  s.web.storage_path = s.storage.path;
  if (f.IsSet("storage.tsdb.retention") && !f.IsSet("storage.tsdb.retention.time")) {
    s.web.storage_retention = f.Get("storage.tsdb.retention");
  }
  if (s.storage.retention_bytes > 0) s.web.storage_retention += " or " + size;
  s.web.build = {build::kVersion, build::kRevision,  build::kBranch,
                 "vigil",         build::kBuildDate, "g++ " __VERSION__};
  return s;
}

}  // namespace vigil
