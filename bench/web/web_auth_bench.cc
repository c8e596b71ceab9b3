// What basic auth (--web.config.file basic_auth_users) costs per request once
// a user's check is cached, against the bcrypt it saves, and a whole
// keep-alive request to /-/healthy with and without it.
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "web/basic_auth.h"
#include "web/server.h"

namespace vigil::web {
namespace {

// bcrypt, cost 10 (htpasswd -B's default), of "s3cret".
constexpr char kHash[] = "$2b$10$07PUUsP3Myp320VOJnaHsuT.ImYU3b5x3zlUrOkD1L.dgB6wik69a";
constexpr char kHeader[] = "Basic YWxpY2U6czNjcmV0";  // alice:s3cret

void BM_CachedBasicAuthCheck(benchmark::State& state) {
  const std::map<std::string, std::string> users = {{"alice", kHash}};
  BasicAuthenticator auth;
  if (!auth.Check(users, kHeader)) state.SkipWithError("check failed");
  for (auto _ : state) benchmark::DoNotOptimize(auth.Check(users, kHeader));
}
BENCHMARK(BM_CachedBasicAuthCheck);

void BM_BcryptCost10(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(BasicAuthenticator::VerifyBcrypt(kHash, "s3cret"));
}
BENCHMARK(BM_BcryptCost10)->Unit(benchmark::kMillisecond)->Iterations(5);

// Keep-alive GET /-/healthy; arg 1: with a web config of one basic auth user.
void BM_HealthyRequest(benchmark::State& state) {
  const bool with_auth = state.range(0) == 1;
  char dir_template[] = "/tmp/web_auth_bench.XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  if (with_auth) {
    options.web_config_file = dir + "/web.yml";
    std::ofstream(options.web_config_file) << "basic_auth_users:\n  alice: " << kHash << "\n";
  }
  Server server(options, ServerDeps{});
  if (!server.Start().ok()) return state.SkipWithError("server did not start");
  server.SetReady(true);
  httplib::Client client("127.0.0.1", server.port());
  client.set_keep_alive(true);
  if (with_auth) client.set_basic_auth("alice", "s3cret");
  for (auto _ : state) {
    auto res = client.Get("/-/healthy");
    if (!res || res->status != 200) return state.SkipWithError("request failed");
  }
  server.Stop();
  std::remove(options.web_config_file.c_str());
  rmdir(dir.c_str());
}
BENCHMARK(BM_HealthyRequest)->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace vigil::web

BENCHMARK_MAIN();
