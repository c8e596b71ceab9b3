// Every `vigil admin` and `vigil tsdb` command end to end: the real binary
// as server (admin API on and off) and as CLI, over loopback HTTP.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `vigil <args>` to completion and captures its output.
CliResult RunVigil(const std::vector<std::string>& args) {
  TempDir dir;
  const auto out_path = dir.path() / "out", err_path = dir.path() / "err";
  std::vector<std::string> argv_store = {VigilBinary()};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out_path), ReadFile(err_path)};
}

std::string Config(const std::string& target) {
  std::string c = "global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\n";
  if (target.empty()) return c;
  return c + "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['" +
         target + "']\n";
}

std::string Url(const VigilProcess& v) {
  return "--url=http://127.0.0.1:" + std::to_string(v.port());
}

json Query(const VigilProcess& vigil, const std::string& query) {
  auto reply = vigil.Get("/api/v1/query?query=" + httplib::detail::encode_query_param(query));
  json j = json::parse(reply.body, nullptr, false);
  if (reply.status != 200 || j.is_discarded()) return json::array();
  return j["data"]["result"];
}

std::string QueryValue(const VigilProcess& vigil, const std::string& query) {
  json v = Query(vigil, query);
  return v.size() == 1 ? v[0]["value"][1].get<std::string>() : "";
}

// A server scraping `target`, with the admin API on, and its data queryable.
class AdminE2E : public ::testing::Test {
 protected:
  void StartServer(const std::filesystem::path& data_dir = {},
                   std::vector<std::string> extra = {}) {
    extra.push_back("--web.enable-admin-api");
    vigil_ = std::make_unique<VigilProcess>(Config(target_.address()), extra, data_dir);
    ASSERT_TRUE(vigil_->WaitReady()) << vigil_->Logs();
  }
  CliResult Admin(std::vector<std::string> args) {
    args.insert(args.begin(), {"admin", Url(*vigil_)});
    return RunVigil(args);
  }

  MetricsTarget target_{"keep_me 1\ndrop_me 2\n"};
  std::unique_ptr<VigilProcess> vigil_;
};

TEST(AdminApiDisabled, EveryEndpointAnswersLikePrometheus) {
  VigilProcess vigil(Config(""));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  for (const char* path :
       {"/api/v1/admin/tsdb/delete_series", "/api/v1/admin/tsdb/clean_tombstones",
        "/api/v1/admin/tsdb/snapshot", "/api/v1/admin/tsdb/compact", "/api/v1/admin/retention"}) {
    const HttpReply reply = vigil.Post(path, "");
    EXPECT_EQ(reply.status, 500) << path;
    EXPECT_EQ(reply.body,
              R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})")
        << path;
  }
  EXPECT_EQ(vigil.Get("/api/v1/admin/retention").status, 500);
}

TEST(AdminApiDisabled, EveryCliCommandExitsNonZeroWithTheReason) {
  VigilProcess vigil(Config(""));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  const std::vector<std::vector<std::string>> commands = {{"retention", "show"},
                                                          {"retention", "set", "--time=1d"},
                                                          {"delete-series", "--match=up"},
                                                          {"clean-tombstones"},
                                                          {"snapshot"},
                                                          {"compact"}};
  for (const auto& c : commands) {
    std::vector<std::string> args = {"admin", Url(vigil)};
    args.insert(args.end(), c.begin(), c.end());
    const CliResult r = RunVigil(args);
    EXPECT_EQ(r.exit_code, 1) << c[0];
    EXPECT_NE(r.err.find("HTTP 500 (unavailable): admin APIs disabled"), std::string::npos)
        << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(AdminCli, ServerDownExitsNonZero) {
  const CliResult r = RunVigil(
      {"admin", "--url=http://127.0.0.1:" + std::to_string(FreePort()), "retention", "show"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach"), std::string::npos) << r.err;
}

TEST_F(AdminE2E, DeleteSeriesRemovesTheSeriesAndKeepsTheOthers) {
  StartServer();
  ASSERT_TRUE(vigil_->WaitFor([&] { return QueryValue(*vigil_, "drop_me") == "2"; }, 10s));
  target_.SetBody("keep_me 1\n");
  ASSERT_TRUE(vigil_->WaitFor([&] { return Query(*vigil_, "drop_me").empty(); }, 10s));

  const CliResult bad = Admin({"delete-series", "--match=drop_me{"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("HTTP 400 (bad_data)"), std::string::npos) << bad.err;

  const CliResult r = Admin({"delete-series", "--match=drop_me"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Deleted data of series matching drop_me\n");
  EXPECT_TRUE(Query(*vigil_, "count_over_time(drop_me[1h])").empty());
  const HttpReply series = vigil_->Get("/api/v1/series?match[]=drop_me");
  EXPECT_EQ(json::parse(series.body)["data"].size(), 0u) << series.body;
  EXPECT_EQ(QueryValue(*vigil_, "keep_me"), "1");
}

TEST_F(AdminE2E, RetentionSetPersistsAcrossRestartAndOverridesFlags) {
  TempDir keep;  // the data directory outlives the first server
  StartServer(keep.path() / "data");
  const CliResult shown = Admin({"retention", "show"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, "Retention time: 30d\nRetention size: unlimited\nSource:         flags\n");

  const CliResult bad = Admin({"retention", "set", "--time=banana"});
  EXPECT_EQ(bad.exit_code, 1);

  const CliResult set = Admin({"retention", "set", "--time=45d", "--size=20GB"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "Retention time: 45d\nRetention size: 20GiB\nSource:         runtime\n");

  vigil_->Signal(SIGTERM);
  ASSERT_EQ(vigil_->WaitExit().value_or(-99), 0) << vigil_->Logs();
  vigil_.reset();

  StartServer(keep.path() / "data", {"--storage.tsdb.retention.time=10d"});
  EXPECT_NE(vigil_->Logs().find("overrides the flags"), std::string::npos) << vigil_->Logs();
  const CliResult json_out = Admin({"--output=json", "retention", "show"});
  ASSERT_EQ(json_out.exit_code, 0) << json_out.err;
  const json j = json::parse(json_out.out);
  EXPECT_EQ(j["data"]["time"], "45d");
  EXPECT_EQ(j["data"]["timeSeconds"], 45 * 86400);
  EXPECT_EQ(j["data"]["sizeBytes"], int64_t{20} << 30);
  EXPECT_EQ(j["data"]["source"], "runtime");
  const json runtime = json::parse(vigil_->Get("/api/v1/status/runtimeinfo").body);
  EXPECT_EQ(runtime["data"]["storageRetention"], "45d or 20GiB");
  const std::string metrics = vigil_->Get("/metrics").body;
  // 45d as Prometheus's text format writes it (Go's %g).
  EXPECT_NE(metrics.find("prometheus_tsdb_retention_limit_seconds 3.888e+06"), std::string::npos);
  EXPECT_NE(metrics.find("vigil_tsdb_retention_from_runtime 1"), std::string::npos);
}

TEST_F(AdminE2E, HttpErrorsMatchPrometheus) {
  StartServer();
  const HttpReply no_match = vigil_->Post("/api/v1/admin/tsdb/delete_series", "");
  EXPECT_EQ(no_match.status, 400);
  EXPECT_EQ(no_match.body,
            R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
  const HttpReply bad_start =
      vigil_->Post("/api/v1/admin/tsdb/delete_series", "match[]=up&start=abc");
  EXPECT_EQ(bad_start.status, 400);
  EXPECT_EQ(
      bad_start.body,
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to a valid timestamp"})");
  const HttpReply bad_skip = vigil_->Post("/api/v1/admin/tsdb/snapshot", "skip_head=xyz");
  EXPECT_EQ(bad_skip.status, 400);
  EXPECT_EQ(
      bad_skip.body,
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"skip_head\": unable to parse boolean: strconv.ParseBool: parsing \"xyz\": invalid syntax"})");
  EXPECT_EQ(vigil_->Get("/api/v1/admin/tsdb/snapshot").status, 405);
  const HttpReply no_limit = vigil_->Post("/api/v1/admin/retention", "");
  EXPECT_EQ(no_limit.status, 400);
  const HttpReply deleted =
      vigil_->Post("/api/v1/admin/tsdb/delete_series", "match[]=nothing_here");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
}

TEST_F(AdminE2E, CleanTombstonesAndCompactSucceed) {
  StartServer();
  const CliResult clean = Admin({"clean-tombstones"});
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_EQ(clean.out, "Tombstones cleaned.\n");
  const CliResult compact = Admin({"compact"});
  EXPECT_EQ(compact.exit_code, 0) << compact.err;
  EXPECT_EQ(compact.out, "Compaction finished.\n");
}

TEST_F(AdminE2E, SnapshotOpensOfflineAndServesTheSameData) {
  StartServer();
  ASSERT_TRUE(vigil_->WaitFor(
      [&] {
        const std::string n = QueryValue(*vigil_, "count_over_time(keep_me[1h])");
        return !n.empty() && std::stoi(n) >= 3;
      },
      15s));
  const CliResult snap = Admin({"--output=json", "snapshot"});
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  const std::string name = json::parse(snap.out)["data"]["name"];
  EXPECT_TRUE(std::regex_match(name, std::regex(R"(\d{8}T\d{6}Z-[0-9a-f]{16})"))) << name;
  const auto dir = vigil_->data_dir() / "snapshots" / name;
  ASSERT_TRUE(std::filesystem::is_directory(dir));

  // The snapshot's content, read offline while the server keeps running.
  const CliResult dump = RunVigil({"tsdb", "dump", dir.string(), "--match=keep_me"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  const auto snapshot_samples = std::count(dump.out.begin(), dump.out.end(), '\n');
  ASSERT_GE(snapshot_samples, 3);
  const CliResult list = RunVigil({"tsdb", "list", dir.string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("PARTITION START"), std::string::npos);

  // The live data directory is refused while the server holds it.
  const CliResult held = RunVigil({"tsdb", "list", vigil_->data_dir().string()});
  EXPECT_EQ(held.exit_code, 1);
  EXPECT_NE(held.err.find("in use by another Vigil instance"), std::string::npos) << held.err;

  // A second server started on the snapshot answers with the same samples.
  TempDir copy;
  std::filesystem::copy(dir, copy.path() / "data", std::filesystem::copy_options::recursive);
  VigilProcess restored(Config(""), {}, copy.path() / "data");
  ASSERT_TRUE(restored.WaitReady()) << restored.Logs();
  EXPECT_EQ(QueryValue(restored, "count_over_time(keep_me[1h])"), std::to_string(snapshot_samples));
}

TEST(RetentionRulesFlag, RulesAreLoggedAtStartAndABadFileStopsTheServer) {
  TempDir dir;
  const auto good = dir.path() / "good.yml", bad = dir.path() / "bad.yml";
  WriteFileAtomically(good, "rules:\n  - match: '{__name__=~\"node_.*\"}'\n    retention: 7d\n");
  WriteFileAtomically(bad, "rules:\n  - match: 'up{'\n    retention: 1d\n");
  VigilProcess ok(Config(""), {"--storage.tsdb.retention.rules-file=" + good.string()});
  ASSERT_TRUE(ok.WaitReady()) << ok.Logs();
  EXPECT_NE(ok.Logs().find(
                R"(msg="Per-metric retention rule" match="{__name__=~\"node_.*\"}" retention=7d)"),
            std::string::npos)
      << ok.Logs();
  VigilProcess failing(Config(""), {"--storage.tsdb.retention.rules-file=" + bad.string()});
  const auto code = failing.WaitExit();
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(failing.Logs().find("bad.yml: rule 1: "), std::string::npos) << failing.Logs();
}

TEST(TsdbCli, ImportedOpenMetricsIsQueryable) {
  TempDir dir;
  const auto file = dir.path() / "import.om";
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  std::string body = "# TYPE inventory_items_total gauge\n";
  for (int i = 0; i < 60; ++i) {
    body += "inventory_items_total{shop=\"a\"} " + std::to_string(i) + " " +
            std::to_string(now_s - 3600 + i * 30) + "\n";
  }
  body += "# EOF\n";
  WriteFileAtomically(file, body);
  const auto data = dir.path() / "data";
  const CliResult imp =
      RunVigil({"tsdb", "create-blocks-from", "openmetrics", file.string(), data.string()});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_NE(imp.out.find("Imported 60 samples of 1 series"), std::string::npos) << imp.out;

  const CliResult analyze = RunVigil({"tsdb", "analyze", data.string()});
  ASSERT_EQ(analyze.exit_code, 0) << analyze.err;
  EXPECT_NE(analyze.out.find("Series: 1\nSamples: 60\n"), std::string::npos) << analyze.out;

  const CliResult om = RunVigil({"tsdb", "dump", data.string(), "--format=openmetrics",
                                 "--min-time=" + std::to_string((now_s - 3600) * 1000)});
  ASSERT_EQ(om.exit_code, 0) << om.err;
  EXPECT_EQ(
      om.out.rfind("inventory_items_total{shop=\"a\"} 0 " + std::to_string(now_s - 3600) + ".000\n",
                   0),
      0u)
      << om.out;
  EXPECT_TRUE(om.out.ends_with("# EOF\n"));

  VigilProcess vigil(Config(""), {}, data);
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_EQ(QueryValue(vigil, "count_over_time(inventory_items_total[2h])"), "60");
  EXPECT_EQ(QueryValue(vigil, "max_over_time(inventory_items_total[2h])"), "59");
}

TEST(TsdbCli, BadInputsExitNonZeroWithAMessage) {
  TempDir dir;
  const auto file = dir.path() / "bad.om";
  WriteFileAtomically(file, "no_timestamp 1\n# EOF\n");
  const CliResult no_ts = RunVigil(
      {"tsdb", "create-blocks-from", "openmetrics", file.string(), (dir.path() / "d").string()});
  EXPECT_EQ(no_ts.exit_code, 1);
  EXPECT_NE(no_ts.err.find("sample without a timestamp"), std::string::npos) << no_ts.err;
  const CliResult missing = RunVigil({"tsdb", "list", (dir.path() / "nothing").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no Vigil data directory"), std::string::npos) << missing.err;
  const CliResult unknown = RunVigil({"tsdb", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("usage: vigil tsdb"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace vigil::e2e
