#include "src/flags.h"

#include <gtest/gtest.h>

#include "src/server_flags.h"

namespace vigil {
namespace {

FlagSet ServerFlags() {
  FlagSet flags("vigil");
  DefineServerFlags(flags);
  return flags;
}

TEST(ServerFlags, DefaultsMatchPrometheusExceptThirtyDayRetention) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags.Parse({}).ok());
  EXPECT_EQ(flags.Get("config.file"), "prometheus.yml");
  EXPECT_EQ(flags.Get("storage.tsdb.path"), "data/");
  EXPECT_EQ(flags.Get("storage.tsdb.retention.time"), "30d");
  EXPECT_EQ(flags.Get("web.listen-address"), "0.0.0.0:9090");
  EXPECT_EQ(flags.Get("log.level"), "info");
  EXPECT_EQ(flags.Get("log.format"), "logfmt");
  EXPECT_FALSE(flags.GetBool("web.enable-lifecycle"));
  auto settings = SettingsFromFlags(flags);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->storage.retention_ms, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(settings->storage.retention_bytes, 0);
  EXPECT_EQ(settings->engine.lookback_delta_ms, 300000);
  EXPECT_EQ(settings->engine.timeout_ms, 120000);
  EXPECT_EQ(settings->web.route_prefix, "/");
}

// --enable-feature as Prometheus: comma-separated, repeatable. Vigil acts on
// otlp-write-receiver (2.47) and names every other feature to warn about it.
TEST(ServerFlags, EnableFeature_TurnsOnOtlpAndCollectsTheRest) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags
                  .Parse({"--enable-feature=exemplar-storage,otlp-write-receiver",
                          "--enable-feature", "native-histograms"})
                  .ok());
  auto settings = SettingsFromFlags(flags);
  ASSERT_TRUE(settings.ok());
  EXPECT_TRUE(settings->web.enable_otlp_write_receiver);
  EXPECT_EQ(settings->unsupported_features,
            (std::vector<std::string>{"exemplar-storage", "native-histograms"}));
  FlagSet none = ServerFlags();
  ASSERT_TRUE(none.Parse({}).ok());
  EXPECT_FALSE(SettingsFromFlags(none)->web.enable_otlp_write_receiver);
}

TEST(ServerFlags, AcceptsEqualsAndSpaceSeparatedValues) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags.Parse({"--config.file=a.yml", "--storage.tsdb.path", "/tmp/x",
                           "--web.enable-lifecycle", "--storage.tsdb.retention.size=512MB"})
                  .ok());
  EXPECT_EQ(flags.Get("config.file"), "a.yml");
  EXPECT_EQ(flags.Get("storage.tsdb.path"), "/tmp/x");
  EXPECT_TRUE(flags.GetBool("web.enable-lifecycle"));
  auto settings = SettingsFromFlags(flags);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->storage.retention_bytes, 512LL << 20);
}

TEST(ServerFlags, NoPrefixNegatesBooleans) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags.Parse({"--web.enable-admin-api", "--no-web.enable-admin-api"}).ok());
  EXPECT_FALSE(flags.GetBool("web.enable-admin-api"));
}

TEST(ServerFlags, RejectsUnknownFlag) {
  FlagSet flags = ServerFlags();
  Status st = flags.Parse({"--storage.tsdb.pth=x"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "unknown long flag '--storage.tsdb.pth'");
}

TEST(ServerFlags, RejectsBadValuesNamingTheFlag) {
  struct Case {
    const char* arg;
    const char* fragment;
  };
  for (const Case& c : {Case{"--storage.tsdb.retention.time=30 days", "retention.time"},
                        Case{"--storage.tsdb.retention.size=lots", "retention.size"},
                        Case{"--log.level=loud", "must be one of"},
                        Case{"--log.format=xml", "log.format"},
                        Case{"--web.listen-address=localhost", "missing port"},
                        Case{"--query.max-concurrency=0", "positive integer"},
                        Case{"--web.enable-lifecycle=maybe", "invalid boolean"}}) {
    FlagSet flags = ServerFlags();
    Status st = flags.Parse({c.arg});
    ASSERT_FALSE(st.ok()) << c.arg;
    EXPECT_NE(st.message().find(c.fragment), std::string::npos) << st.message();
  }
}

TEST(ServerFlags, MissingValueIsAnError) {
  FlagSet flags = ServerFlags();
  Status st = flags.Parse({"--config.file"});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expected argument"), std::string::npos);
}

TEST(ServerFlags, RoutePrefixDefaultsToExternalUrlPath) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags.Parse({"--web.external-url=http://example.com:9090/vigil/"}).ok());
  auto settings = SettingsFromFlags(flags);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->web.route_prefix, "/vigil");
}

TEST(ServerFlags, AcceptsPrometheusBlockAndAgentFlagsSoExistingCommandLinesStart) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags
                  .Parse({"--storage.tsdb.min-block-duration=2h",
                          "--storage.tsdb.max-block-duration=2h",
                          "--storage.tsdb.wal-segment-size=128MB", "--no-storage.tsdb.use-lockfile",
                          "--storage.tsdb.allow-overlapping-blocks", "--web.local-assets=/x",
                          "--scrape.discovery-reload-interval=10s"})
                  .ok());
  EXPECT_TRUE(SettingsFromFlags(flags).ok());
  EXPECT_EQ(flags.Get("storage.tsdb.retention.size"), "0B");  // as /status/flags shows it
}

TEST(ServerFlags, DeprecatedRetentionFlagAppliesOnlyWithoutTheNewOne) {
  FlagSet old_only = ServerFlags();
  ASSERT_TRUE(old_only.Parse({"--storage.tsdb.retention=7d"}).ok());
  EXPECT_EQ(SettingsFromFlags(old_only)->storage.retention_ms, 7LL * 24 * 3600 * 1000);
  FlagSet both = ServerFlags();
  ASSERT_TRUE(both.Parse({"--storage.tsdb.retention=7d", "--storage.tsdb.retention.time=2d"}).ok());
  EXPECT_EQ(SettingsFromFlags(both)->storage.retention_ms, 2LL * 24 * 3600 * 1000);
}

TEST(ServerFlags, WebConfigFileReachesTheWebServer) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags.Parse({"--web.config.file=web.yml"}).ok());
  EXPECT_EQ(SettingsFromFlags(flags)->web.web_config_file, "web.yml");
}

TEST(ServerFlags, HelpAndVersionAreRecognised) {
  FlagSet flags = ServerFlags();
  ASSERT_TRUE(flags.Parse({"--help", "--version"}).ok());
  EXPECT_TRUE(flags.help());
  EXPECT_TRUE(flags.version());
  EXPECT_NE(flags.Usage().find("--storage.tsdb.retention.time"), std::string::npos);
}

}  // namespace
}  // namespace vigil
