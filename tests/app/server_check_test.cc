// `vigil check healthy|ready` against a loopback HTTP server: the output and
// exit codes of promtool 2.48's `check healthy|ready` (cmd/promtool/main.go
// CheckServerStatus and checkErr in v2.48.0; Debian's promtool 2.42 has no
// such command to compare with).
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "src/server_check_cli.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil {
namespace {

// A server answering /-/healthy with 200 and /-/ready with `ready_status`.
class StatusServer {
 public:
  explicit StatusServer(int ready_status) {
    server_.Get("/-/healthy", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.has_header("Authorization") ? req.get_header_value("Authorization")
                                                      : "Prometheus Server is Healthy.\n",
                      "text/plain");
    });
    server_.Get("/prefix/-/ready", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("Prometheus Server is Ready.\n", "text/plain");
    });
    server_.Get("/-/ready", [ready_status](const httplib::Request&, httplib::Response& res) {
      res.status = ready_status;
      res.set_content("Service Unavailable", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~StatusServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Check(const std::string& what, const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunServerStatusCheck(what, args, out, err);
  return {code, out.str(), err.str()};
}

TEST(ServerStatusCheck, HealthyServerPrintsSuccessWithTheBodyToStderrAndExitsZero) {
  StatusServer server(200);
  const Outcome o = Check("healthy", {"--url=" + server.url()});
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out, "");
  // fmt.Fprintln(os.Stderr, "  SUCCESS: ", body): two spaces, then the body.
  EXPECT_EQ(o.err, "  SUCCESS:  Prometheus Server is Healthy.\n\n");
}

TEST(ServerStatusCheck, NotReadyServerFailsWithUrlAndStatus) {
  StatusServer server(503);
  const Outcome o = Check("ready", {"--url", server.url()});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "check failed: URL=" + server.url() + ", status=503\n");
}

TEST(ServerStatusCheck, UrlPathIsAPrefixOfTheEndpoint) {
  StatusServer server(503);
  const Outcome o = Check("ready", {"--url=" + server.url() + "/prefix"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err, "  SUCCESS:  Prometheus Server is Ready.\n\n");
}

TEST(ServerStatusCheck, CredentialsInTheUrlAreSentAsBasicAuth) {
  StatusServer server(200);
  std::string url = server.url();
  url.insert(url.find("//") + 2, "admin:secret@");
  const Outcome o = Check("healthy", {"--url=" + url});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err, "  SUCCESS:  Basic YWRtaW46c2VjcmV0\n");
}

TEST(ServerStatusCheck, UnreachableOrUnusableUrlFailsNamingTheRequest) {
  const std::string url = "http://127.0.0.1:" + std::to_string(test_support::FreePort());
  Outcome o = Check("healthy", {"--url=" + url});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err.rfind("Get \"" + url + "/-/healthy\": ", 0), 0u) << o.err;
  o = Check("ready", {"--url=localhost:9090"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "Get \"localhost:9090/-/ready\": unsupported protocol scheme \"\"\n");
}

TEST(ServerStatusCheck, DefaultUrlIsLocalhost9090AndUnknownArgumentsAreRefused) {
  std::ostringstream out, err;
  EXPECT_EQ(RunServerStatusCheck("healthy", {"--help"}, out, err), 0);
  EXPECT_NE(out.str().find("http://localhost:9090"), std::string::npos) << out.str();
  EXPECT_EQ(Check("healthy", {"--bogus"}).code, 1);
  EXPECT_EQ(Check("healthy", {"extra"}).code, 1);
  const Outcome o = Check("healthy", {"--http.config.file=h.yml"});
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("--http.config.file is not supported"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace vigil
