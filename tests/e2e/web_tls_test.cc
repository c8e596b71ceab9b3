// --web.config.file end to end: TLS, client certificates, basic auth and
// certificate rotation on the real binary, with certificates made by the
// `openssl` tool in each test; then real peers (Prometheus, node-exporter,
// promtool) talking TLS + basic auth to and from Vigil.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/e2e/alertmanager_process.h"
#include "tests/e2e/http_proxy.h"
#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"
#include "tests/support/child_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// bcrypt (cost 4, so tests stay fast) of "s3cret", as `htpasswd -nbB -C 4 alice s3cret` makes.
constexpr char kAliceHash[] = "$2b$04$cLIss7aIJ8zWbroRUZ7vhOJPG/Kat9KNPZ99f5yy0dDm04pko5B8S";
constexpr char kAlicePassword[] = "s3cret";

// A TLS client whose handshake the server refuses may write to a closed
// socket (OpenSSL's write() raises SIGPIPE): that must fail the request, not
// kill the test binary and orphan its Vigil.
const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

bool Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  const int rc = test_support::RunToCompletion(argv, &output);
  EXPECT_EQ(rc, 0) << output;
  return rc == 0;
}

// Certificates made with openssl in a temp dir: CAs, and leaf certificates
// (P-256 keys, quick to make) signed by one of them.
class Pki {
 public:
  const fs::path& dir() const { return dir_.path(); }
  fs::path Path(const std::string& name) const { return dir_.path() / name; }

  // <name>.pem and <name>.key: a self-signed CA.
  void MakeCa(const std::string& name) {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Path(name + ".key"), "-out", Path(name + ".pem"), "-days", "2", "-subj",
             "/CN=" + name});
  }

  // <name>.pem and <name>.key signed by CA `ca`, valid for `names` (127.0.0.1 and localhost).
  void MakeLeaf(const std::string& name, const std::string& ca,
                const std::string& names = "IP:127.0.0.1,DNS:localhost") {
    WriteFileAtomically(Path(name + ".ext"), "subjectAltName=" + names +
                                                 "\n"
                                                 "extendedKeyUsage=serverAuth,clientAuth\n");
    Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Path(name + ".key"), "-out", Path(name + ".csr"), "-subj", "/CN=" + name});
    Openssl({"x509", "-req", "-in", Path(name + ".csr"), "-CA", Path(ca + ".pem"), "-CAkey",
             Path(ca + ".key"), "-CAcreateserial", "-out", Path(name + ".pem"), "-days", "2",
             "-extfile", Path(name + ".ext")});
  }

 private:
  test_support::TempDir dir_;
};

struct ClientOptions {
  fs::path ca;                           // trusted CA (server certificate verified against it)
  fs::path cert = {}, key = {};          // client certificate (optional)
  std::string user = {}, password = {};  // basic auth (optional)
};

struct Reply {
  int status = 0;  // 0: no connection / TLS refused
  std::string body;
  std::string www_authenticate;
  std::string frame_options;
};

Reply HttpsGet(int port, const std::string& path, const ClientOptions& o) {
  std::unique_ptr<httplib::SSLClient> client =
      o.cert.empty() ? std::make_unique<httplib::SSLClient>("127.0.0.1", port)
                     : std::make_unique<httplib::SSLClient>("127.0.0.1", port, o.cert.string(),
                                                            o.key.string());
  client->set_ca_cert_path(o.ca.c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(5);
  client->set_read_timeout(10);
  if (!o.user.empty()) client->set_basic_auth(o.user.c_str(), o.password.c_str());
  auto res = client->Get(path.c_str());
  if (!res) return {};
  return {res->status, res->body, res->get_header_value("WWW-Authenticate"),
          res->get_header_value("X-Frame-Options")};
}

std::string MinimalConfig() { return "global:\n  scrape_interval: 1s\n"; }

// Vigil serving with `web_yml` written next to the certificates.
std::unique_ptr<VigilProcess> StartVigil(const Pki& pki, const std::string& web_yml,
                                         const std::string& config = MinimalConfig()) {
  WriteFileAtomically(pki.Path("web.yml"), web_yml);
  return std::make_unique<VigilProcess>(
      config, std::vector<std::string>{"--web.config.file=" + pki.Path("web.yml").string()});
}

bool WaitHttpsReady(VigilProcess& vigil, const ClientOptions& o) {
  return vigil.WaitFor([&] { return HttpsGet(vigil.port(), "/-/ready", o).status == 200; }, 20s);
}

std::string TlsSection(const std::string& cert = "server") {
  return "tls_server_config:\n  cert_file: " + cert + ".pem\n  key_file: " + cert + ".key\n";
}

std::string BasicAuthSection() {
  return std::string("basic_auth_users:\n  alice: ") + kAliceHash + "\n";
}

class WebTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_.MakeCa("ca");
    pki_.MakeLeaf("server", "ca");
  }
  ClientOptions Trusting() const { return {.ca = pki_.Path("ca.pem")}; }
  ClientOptions AsAlice(std::string password = kAlicePassword) const {
    return {.ca = pki_.Path("ca.pem"), .user = "alice", .password = std::move(password)};
  }

  Pki pki_;
};

TEST_F(WebTlsTest, TlsOnlyServesHttpsAndNotPlainHttp) {
  auto vigil = StartVigil(pki_, TlsSection());
  ASSERT_TRUE(WaitHttpsReady(*vigil, Trusting())) << vigil->Logs();
  const Reply query = HttpsGet(vigil->port(), "/api/v1/query?query=1%2B1", Trusting());
  EXPECT_EQ(query.status, 200);
  EXPECT_NE(query.body.find("\"2\""), std::string::npos) << query.body;
  const HttpReply plain = vigil->Get("/-/healthy");  // Go's answer to plain HTTP on TLS
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(plain.body, "Client sent an HTTP request to an HTTPS server.\n");
  EXPECT_NE(vigil->Logs().find("TLS is enabled."), std::string::npos) << vigil->Logs();
}

TEST_F(WebTlsTest, RequiredClientCertificateRefusesClientsWithoutOne) {
  pki_.MakeLeaf("client", "ca");
  pki_.MakeCa("other_ca");
  pki_.MakeLeaf("stranger", "other_ca");
  auto vigil = StartVigil(pki_, TlsSection() +
                                    "  client_auth_type: RequireAndVerifyClientCert\n"
                                    "  client_ca_file: ca.pem\n");
  ClientOptions with_cert = Trusting();
  with_cert.cert = pki_.Path("client.pem");
  with_cert.key = pki_.Path("client.key");
  ASSERT_TRUE(WaitHttpsReady(*vigil, with_cert)) << vigil->Logs();
  EXPECT_EQ(HttpsGet(vigil->port(), "/metrics", with_cert).status, 200);
  EXPECT_EQ(HttpsGet(vigil->port(), "/metrics", Trusting()).status, 0);
  ClientOptions stranger = Trusting();
  stranger.cert = pki_.Path("stranger.pem");
  stranger.key = pki_.Path("stranger.key");
  EXPECT_EQ(HttpsGet(vigil->port(), "/metrics", stranger).status, 0);
  EXPECT_NE(vigil->Logs().find("TLS handshake error"), std::string::npos) << vigil->Logs();
}

TEST_F(WebTlsTest, BasicAuthAnswers401WithoutTheRightPassword) {
  auto vigil = StartVigil(pki_, TlsSection() +
                                    "http_server_config:\n  headers:\n"
                                    "    X-Frame-Options: deny\n" +
                                    BasicAuthSection());
  ASSERT_TRUE(WaitHttpsReady(*vigil, AsAlice())) << vigil->Logs();
  const Reply right = HttpsGet(vigil->port(), "/api/v1/query?query=1", AsAlice());
  EXPECT_EQ(right.status, 200);
  EXPECT_EQ(right.frame_options, "deny");
  for (const auto& [name, options] : std::vector<std::pair<std::string, ClientOptions>>{
           {"wrong password", AsAlice("nope")}, {"missing", Trusting()}}) {
    SCOPED_TRACE(name);
    for (const char* path :
         {"/api/v1/query?query=1", "/metrics", "/federate?match[]=up", "/-/healthy", "/graph"}) {
      const Reply denied = HttpsGet(vigil->port(), path, options);
      EXPECT_EQ(denied.status, 401) << path;
      EXPECT_EQ(denied.www_authenticate, "Basic") << path;
      EXPECT_EQ(denied.frame_options, "deny") << path;
      EXPECT_EQ(denied.body, "Unauthorized\n") << path;
    }
  }
  ClientOptions unknown_user = AsAlice();
  unknown_user.user = "mallory";
  EXPECT_EQ(HttpsGet(vigil->port(), "/metrics", unknown_user).status, 401);
}

TEST_F(WebTlsTest, BasicAuthWithoutTlsProtectsPlainHttp) {
  auto vigil = StartVigil(pki_, BasicAuthSection());
  ASSERT_TRUE(vigil->WaitFor([&] { return vigil->Get("/-/ready").status == 401; }, 20s))
      << vigil->Logs();
  EXPECT_EQ(vigil->Post("/api/v1/query", "query=1").status, 401);
  httplib::Client client("127.0.0.1", vigil->port());
  client.set_basic_auth("alice", kAlicePassword);
  auto res = client.Get("/api/v1/query?query=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// exporter-toolkit reads the file on every request: a user removed from it is
// refused on the next request of a kept-alive connection, a file that no
// longer parses answers 500, and a fixed file serves again.
TEST_F(WebTlsTest, UsersAndHeadersChangedOnDiskApplyToTheNextRequestOfAConnection) {
  auto vigil = StartVigil(pki_, BasicAuthSection() + "  bob: " + kAliceHash + "\n");
  ASSERT_TRUE(vigil->WaitFor([&] { return vigil->Get("/-/ready").status == 401; }, 20s))
      << vigil->Logs();
  httplib::Client bob("127.0.0.1", vigil->port());
  bob.set_keep_alive(true);
  bob.set_basic_auth("bob", kAlicePassword);
  auto res = bob.Get("/api/v1/query?query=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->get_header_value("X-Frame-Options").empty());

  WriteFileAtomically(pki_.Path("web.yml"), BasicAuthSection() +
                                                "http_server_config:\n  headers:\n"
                                                "    X-Frame-Options: deny\n");
  res = bob.Get("/api/v1/query?query=1");  // same connection
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");

  httplib::Client alice("127.0.0.1", vigil->port());
  alice.set_keep_alive(true);
  alice.set_basic_auth("alice", kAlicePassword);
  res = alice.Get("/api/v1/query?query=1");  // opens its connection with a valid file
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  WriteFileAtomically(pki_.Path("web.yml"), "basic_auth_users: [\n");
  res = alice.Get("/api/v1/query?query=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_EQ(res->body, "Internal Server Error\n");
  WriteFileAtomically(pki_.Path("web.yml"), BasicAuthSection());
  res = alice.Get("/api/v1/query?query=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(vigil->Logs().find("Unable to parse configuration"), std::string::npos);
}

TEST_F(WebTlsTest, CertificateReplacedOnDiskIsServedToTheNextConnection) {
  pki_.MakeCa("ca2");
  pki_.MakeLeaf("server2", "ca2");
  auto vigil = StartVigil(pki_, TlsSection());
  ASSERT_TRUE(WaitHttpsReady(*vigil, Trusting())) << vigil->Logs();
  const ClientOptions trusting_ca2 = {.ca = pki_.Path("ca2.pem")};
  EXPECT_EQ(HttpsGet(vigil->port(), "/-/healthy", trusting_ca2).status, 0);

  fs::copy_file(pki_.Path("server2.pem"), pki_.Path("server.pem.new"));
  fs::copy_file(pki_.Path("server2.key"), pki_.Path("server.key.new"));
  fs::rename(pki_.Path("server.key.new"), pki_.Path("server.key"));
  fs::rename(pki_.Path("server.pem.new"), pki_.Path("server.pem"));

  EXPECT_EQ(HttpsGet(vigil->port(), "/-/healthy", trusting_ca2).status, 200) << vigil->Logs();
  EXPECT_EQ(HttpsGet(vigil->port(), "/-/healthy", Trusting()).status, 0);
}

TEST_F(WebTlsTest, InvalidWebConfigStopsStartup) {
  WriteFileAtomically(pki_.Path("web.yml"), TlsSection() + "  unknown_field: 1\n");
  VigilProcess vigil(MinimalConfig(), {"--web.config.file=" + pki_.Path("web.yml").string()});
  EXPECT_EQ(vigil.WaitExit(), 1);
  EXPECT_NE(vigil.Logs().find("field unknown_field not found in type web.TLSConfig"),
            std::string::npos)
      << vigil.Logs();
}

// ---- Real peers --------------------------------------------------------

bool Installed(const char* path) { return fs::exists(path); }

TEST_F(WebTlsTest, PrometheusScrapesFederateOverTlsWithBasicAuth) {
  const char* kPrometheus = "/usr/bin/prometheus";
  if (!Installed(kPrometheus))
    GTEST_SKIP() << kPrometheus << " missing (apt-get install prometheus)";
  // Vigil scrapes itself over TLS + basic auth (the outgoing side), and
  // Prometheus federates those series over TLS + basic auth (the incoming side).
  const std::string self_job =
      "scrape_configs:\n"
      "  - job_name: vigil\n"
      "    scheme: https\n"
      "    tls_config: {ca_file: " +
      pki_.Path("ca.pem").string() +
      "}\n"
      "    basic_auth: {username: alice, password: " +
      kAlicePassword +
      "}\n"
      "    static_configs: [{targets: ['127.0.0.1:PORT']}]\n";
  // The port is only known once Vigil runs: scrape by a file_sd-free trick —
  // start Vigil first, then reload with the right target.
  auto vigil = StartVigil(pki_, TlsSection() + BasicAuthSection());
  ASSERT_TRUE(WaitHttpsReady(*vigil, AsAlice())) << vigil->Logs();
  std::string config = MinimalConfig() + self_job;
  config.replace(config.find("PORT"), 4, std::to_string(vigil->port()));
  WriteFileAtomically(vigil->config_path(), config);
  vigil->Signal(SIGHUP);
  ASSERT_TRUE(vigil->WaitFor(
      [&] {
        return HttpsGet(vigil->port(), "/api/v1/query?query=up%7Bjob%3D%22vigil%22%7D", AsAlice())
                   .body.find("\"1\"]") != std::string::npos;
      },
      20s))
      << vigil->Logs();

  const int prom_port = FreePort();
  WriteFileAtomically(pki_.Path("prometheus.yml"),
                      "global:\n  scrape_interval: 1s\n"
                      "scrape_configs:\n"
                      "  - job_name: federate\n"
                      "    scheme: https\n"
                      "    metrics_path: /federate\n"
                      "    params: {'match[]': ['{job=\"vigil\"}']}\n"
                      "    honor_labels: true\n"
                      "    tls_config: {ca_file: " +
                          pki_.Path("ca.pem").string() +
                          "}\n"
                          "    basic_auth: {username: alice, password: " +
                          kAlicePassword +
                          "}\n"
                          "    static_configs: [{targets: ['127.0.0.1:" +
                          std::to_string(vigil->port()) + "']}]\n");
  test_support::ChildProcess prometheus(
      {kPrometheus, "--config.file=" + pki_.Path("prometheus.yml").string(),
       "--storage.tsdb.path=" + pki_.Path("prom-data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      pki_.Path("prometheus.log"));
  const bool federated = vigil->WaitFor(
      [&] {
        const auto reply = HttpGet(prom_port,
                                   "/api/v1/query?query=up%7Bjob%3D%22vigil%22%7D%20%2B%20on()%20"
                                   "up%7Bjob%3D%22federate%22%7D");
        return reply.body.find("\"2\"]") != std::string::npos;
      },
      30s);
  std::ifstream log(pki_.Path("prometheus.log"));
  std::stringstream prometheus_log;
  prometheus_log << log.rdbuf();
  EXPECT_TRUE(federated) << "Prometheus log:\n"
                         << prometheus_log.str() << "\nVigil log:\n"
                         << vigil->Logs();
}

TEST_F(WebTlsTest, VigilScrapesNodeExporterOverTlsWithBasicAuth) {
  const char* kNodeExporter = "/usr/bin/prometheus-node-exporter";
  if (!Installed(kNodeExporter)) {
    GTEST_SKIP() << kNodeExporter << " missing (apt-get install prometheus-node-exporter)";
  }
  WriteFileAtomically(pki_.Path("node-web.yml"), TlsSection() + BasicAuthSection());
  const int node_port = FreePort();
  test_support::ChildProcess node(
      {kNodeExporter, "--web.config.file=" + pki_.Path("node-web.yml").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(node_port),
       "--collector.disable-defaults", "--collector.cpu"},
      pki_.Path("node.log"));
  auto make_job = [&](const std::string& name, const std::string& password) {
    return "  - job_name: " + name +
           "\n"
           "    scheme: https\n"
           "    tls_config: {ca_file: " +
           pki_.Path("ca.pem").string() +
           "}\n"
           "    basic_auth: {username: alice, password: " +
           password +
           "}\n"
           "    static_configs: [{targets: ['127.0.0.1:" +
           std::to_string(node_port) + "']}]\n";
  };
  VigilProcess vigil(MinimalConfig() + "scrape_configs:\n" + make_job("node", kAlicePassword) +
                     make_job("node_wrong_password", "nope"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  const auto value_of = [&](const std::string& query) {
    json j = json::parse(
        vigil.Get("/api/v1/query?query=" + httplib::detail::encode_query_param(query)).body,
        nullptr, false);
    if (j.is_discarded() || j["data"]["result"].size() != 1) return std::string();
    return j["data"]["result"][0]["value"][1].get<std::string>();
  };
  EXPECT_TRUE(vigil.WaitFor([&] { return value_of("up{job=\"node\"}") == "1"; }, 20s))
      << vigil.Logs();
  EXPECT_EQ(value_of("count(node_cpu_seconds_total{job=\"node\"}) > 0").empty(), false);
  EXPECT_TRUE(
      vigil.WaitFor([&] { return value_of("up{job=\"node_wrong_password\"}") == "0"; }, 20s));
}

TEST_F(WebTlsTest, PromtoolQueriesVigilOverTlsWithBasicAuth) {
  if (!Installed("/usr/bin/promtool"))
    GTEST_SKIP() << "promtool missing (apt-get install prometheus)";
  auto vigil = StartVigil(pki_, TlsSection() + BasicAuthSection());
  ASSERT_TRUE(WaitHttpsReady(*vigil, AsAlice())) << vigil->Logs();
  // promtool 2.42 has no --http.config.file: it trusts SSL_CERT_FILE and takes
  // basic auth from the URL, as Go's HTTP client does.
  const std::string base = "https://alice:" + std::string(kAlicePassword) +
                           "@127.0.0.1:" + std::to_string(vigil->port());
  std::string output;
  const int rc = test_support::RunToCompletion(
      {"/usr/bin/env", "SSL_CERT_FILE=" + pki_.Path("ca.pem").string(), "/usr/bin/promtool",
       "query", "instant", base, "6 * 7"},
      &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_NE(output.find("42"), std::string::npos) << output;
  const std::string no_password = "https://127.0.0.1:" + std::to_string(vigil->port());
  EXPECT_NE(test_support::RunToCompletion(
                {"/usr/bin/env", "SSL_CERT_FILE=" + pki_.Path("ca.pem").string(),
                 "/usr/bin/promtool", "query", "instant", no_password, "1"},
                &output),
            0);
  EXPECT_NE(output.find("401"), std::string::npos) << output;
}

TEST_F(WebTlsTest, AlertsReachAlertmanagerOverTlsWithBasicAuth) {
  if (!Installed(AlertmanagerProcess::kBinary)) {
    GTEST_SKIP() << AlertmanagerProcess::kBinary
                 << " missing (apt-get install prometheus-alertmanager)";
  }
  WriteFileAtomically(pki_.Path("am-web.yml"), TlsSection() + BasicAuthSection());
  const AlertmanagerProcess am(pki_.Path(""),
                               {"--web.config.file=" + pki_.Path("am-web.yml").string()});
  const int am_port = am.port();
  ASSERT_TRUE(am.listening()) << "Alertmanager did not listen within 20 s";
  WriteFileAtomically(pki_.Path("rules.yml"),
                      "groups:\n  - name: g\n    interval: 1s\n    rules:\n"
                      "      - alert: AlwaysOn\n        expr: vector(1)\n");
  VigilProcess vigil(MinimalConfig() +
                     "  evaluation_interval: 1s\n"
                     "rule_files: ['" +
                     pki_.Path("rules.yml").string() +
                     "']\n"
                     "alerting:\n  alertmanagers:\n"
                     "    - scheme: https\n"
                     "      tls_config: {ca_file: " +
                     pki_.Path("ca.pem").string() +
                     "}\n"
                     "      basic_auth: {username: alice, password: " +
                     kAlicePassword +
                     "}\n"
                     "      static_configs: [{targets: ['127.0.0.1:" +
                     std::to_string(am_port) + "']}]\n");
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  const bool delivered = vigil.WaitFor(
      [&] {
        const Reply alerts = HttpsGet(am_port, "/api/v2/alerts", AsAlice());
        return alerts.status == 200 && alerts.body.find("AlwaysOn") != std::string::npos;
      },
      30s);
  std::ifstream log(pki_.Path("am.log"));
  std::stringstream am_log;
  am_log << log.rdbuf();
  EXPECT_TRUE(delivered) << "Alertmanager log:\n"
                         << am_log.str() << "\nVigil log:\n"
                         << vigil.Logs();
  EXPECT_EQ(HttpsGet(am_port, "/api/v2/alerts", Trusting()).status, 401);
}

// ---- Outgoing: oauth2 and proxy_url -------------------------------------

// A loopback OAuth2 token endpoint (client credentials flow: client "vigil",
// secret "hunter2") and a /metrics that wants the token it issued last.
class OAuth2Peer {
 public:
  OAuth2Peer() {
    server_.Post("/token", [this](const httplib::Request& req, httplib::Response& res) {
      const bool client_ok = req.get_header_value("Authorization") ==
                             httplib::make_basic_authentication_header("vigil", "hunter2").second;
      if (req.get_param_value("grant_type") != "client_credentials" ||
          req.get_param_value("scope") != "read write" ||
          req.get_param_value("audience") != "metrics") {
        res.status = 400;
        return res.set_content(R"({"error":"invalid_request"})", "application/json");
      }
      if (!client_ok) {
        res.status = 401;
        return res.set_content(R"({"error":"invalid_client"})", "application/json");
      }
      const int n = ++tokens_;
      res.set_content(R"({"access_token":"tok-)" + std::to_string(n) +
                          R"(","token_type":"bearer","expires_in":3600})",
                      "application/json");
    });
    server_.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer tok-" + std::to_string(tokens_.load())) {
        res.status = 401;
        return;
      }
      ++scrapes_;
      res.set_content("secured 1\n", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~OAuth2Peer() {
    server_.stop();
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int tokens() const { return tokens_.load(); }
  int scrapes() const { return scrapes_.load(); }

 private:
  httplib::Server server_;
  std::atomic<int> tokens_{0};
  std::atomic<int> scrapes_{0};
  int port_ = 0;
  std::thread thread_;
};

std::string UpOf(const VigilProcess& vigil, const std::string& job) {
  json j = json::parse(vigil.Get("/api/v1/query?query=up%7Bjob%3D%22" + job + "%22%7D").body,
                       nullptr, false);
  if (j.is_discarded() || j["data"]["result"].size() != 1) return "";
  return j["data"]["result"][0]["value"][1].get<std::string>();
}

TEST(OutgoingAuthTest, OAuth2ClientCredentialsTokenIsFetchedOnceAndSecretsStayHidden) {
  OAuth2Peer peer;
  const auto job = [&](const std::string& name, const std::string& secret) {
    return "  - job_name: " + name +
           "\n"
           "    oauth2:\n"
           "      client_id: vigil\n"
           "      client_secret: " +
           secret +
           "\n"
           "      scopes: [read, write]\n"
           "      token_url: http://" +
           peer.address() +
           "/token\n"
           "      endpoint_params: {audience: metrics}\n"
           "    static_configs: [{targets: ['" +
           peer.address() + "']}]\n";
  };
  VigilProcess vigil(MinimalConfig() + "scrape_configs:\n" + job("oauth", "hunter2") +
                     job("oauth_wrong", "wrong-secret-xyz"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "oauth") == "1"; }, 20s)) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return peer.scrapes() >= 3; }, 20s));
  EXPECT_EQ(peer.tokens(), 1) << "the token (valid 1 h) was not cached";
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "oauth_wrong") == "0"; }, 20s));
  const std::string config = vigil.Get("/api/v1/status/config").body;
  EXPECT_EQ(config.find("hunter2"), std::string::npos) << config;
  EXPECT_NE(config.find("client_secret: <secret>"), std::string::npos) << config;
  const std::string targets = vigil.Get("/api/v1/targets").body;
  EXPECT_NE(targets.find("oauth2: cannot fetch token"), std::string::npos) << targets;
  for (const std::string& text : {targets, vigil.Logs()}) {
    EXPECT_EQ(text.find("wrong-secret-xyz"), std::string::npos) << text;
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  }
}

// The lines of `text`, each indented by `indent` spaces (a YAML block scalar).
std::string Indented(const std::string& text, int indent) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += std::string(indent, ' ') + line + "\n";
  return out;
}

TEST_F(WebTlsTest, ScrapeTlsConfigTakesAnInlineCaAndHonoursMinVersion) {
  auto target = StartVigil(pki_, TlsSection() + "  max_version: TLS12\n");
  ASSERT_TRUE(WaitHttpsReady(*target, Trusting())) << target->Logs();
  std::stringstream ca;
  ca << std::ifstream(pki_.Path("ca.pem")).rdbuf();
  const std::string address = "127.0.0.1:" + std::to_string(target->port());
  VigilProcess vigil(MinimalConfig() +
                     "scrape_configs:\n"
                     "  - job_name: inline_ca\n"
                     "    scheme: https\n"
                     "    tls_config:\n"
                     "      ca: |\n" +
                     Indented(ca.str(), 8) + "    static_configs: [{targets: ['" + address +
                     "']}]\n"
                     "  - job_name: wants_tls13\n"
                     "    scheme: https\n"
                     "    tls_config: {ca_file: " +
                     pki_.Path("ca.pem").string() +
                     ", min_version: TLS13}\n"
                     "    static_configs: [{targets: ['" +
                     address + "']}]\n");
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "inline_ca") == "1"; }, 20s)) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "wants_tls13") == "0"; }, 20s));
  EXPECT_NE(UpOf(vigil, "wants_tls13"), "1");
}

TEST_F(WebTlsTest, ScrapeTlsConfigServerNameIsTheNameVerified) {
  pki_.MakeLeaf("internal", "ca", "DNS:vigil.internal");
  auto target = StartVigil(pki_, TlsSection("internal"));
  ASSERT_TRUE(target->WaitFor(
      [&] { return target->Logs().find("TLS is enabled.") != std::string::npos; }, 20s));
  const std::string address = "127.0.0.1:" + std::to_string(target->port());
  const auto job = [&](const std::string& name, const std::string& server_name) {
    return "  - job_name: " + name +
           "\n    scheme: https\n"
           "    tls_config: {ca_file: " +
           pki_.Path("ca.pem").string() +
           (server_name.empty() ? "" : ", server_name: " + server_name) +
           "}\n"
           "    static_configs: [{targets: ['" +
           address + "']}]\n";
  };
  VigilProcess vigil(MinimalConfig() + "scrape_configs:\n" + job("named", "vigil.internal") +
                     job("unnamed", "") + job("misnamed", "other.internal"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "named") == "1"; }, 20s)) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "unnamed") == "0"; }, 20s));
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "misnamed") == "0"; }, 20s));
}

TEST_F(WebTlsTest, ProxyUrlCarriesHttpAndHttpsScrapes) {
  HttpProxy proxy;
  MetricsTarget plain("via_proxy 1\n");
  auto tls_target = StartVigil(pki_, TlsSection());
  ASSERT_TRUE(WaitHttpsReady(*tls_target, Trusting())) << tls_target->Logs();
  const std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  const std::string tls_address = "127.0.0.1:" + std::to_string(tls_target->port());
  VigilProcess vigil(MinimalConfig() +
                     "scrape_configs:\n"
                     "  - job_name: http_via_proxy\n"
                     "    proxy_url: " +
                     proxy_url +
                     "\n"
                     "    static_configs: [{targets: ['" +
                     plain.address() +
                     "']}]\n"
                     "  - job_name: https_via_proxy\n"
                     "    scheme: https\n"
                     "    proxy_url: " +
                     proxy_url +
                     "\n"
                     "    tls_config: {ca_file: " +
                     pki_.Path("ca.pem").string() +
                     "}\n"
                     "    static_configs: [{targets: ['" +
                     tls_address + "']}]\n");
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "http_via_proxy") == "1"; }, 20s))
      << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "https_via_proxy") == "1"; }, 20s))
      << vigil.Logs();
  const auto lines = proxy.request_lines();
  const auto saw = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  };
  EXPECT_TRUE(saw("GET http://" + plain.address() + "/metrics HTTP/1.1"));
  EXPECT_TRUE(saw("CONNECT " + tls_address + " HTTP/1.1"));
}

// proxy_connect_header (prometheus/common v0.44): sent on the CONNECT of an
// https tunnel, with Proxy-Authorization from proxy_url's user info as Go's
// Transport sends it; the values are secrets in /api/v1/status/config.
TEST_F(WebTlsTest, ProxyConnectHeaderArrivesOnTheConnectRequest) {
  HttpProxy proxy;
  auto tls_target = StartVigil(pki_, TlsSection());
  ASSERT_TRUE(WaitHttpsReady(*tls_target, Trusting())) << tls_target->Logs();
  const std::string tls_address = "127.0.0.1:" + std::to_string(tls_target->port());
  VigilProcess vigil(MinimalConfig() +
                     "scrape_configs:\n"
                     "  - job_name: https_via_proxy\n"
                     "    scheme: https\n"
                     "    proxy_url: http://pu:proxy-pw@127.0.0.1:" +
                     std::to_string(proxy.port()) +
                     "\n"
                     "    proxy_connect_header:\n"
                     "      X-Proxy-Token: [tok-4711, tok-4712]\n"
                     "    tls_config: {ca_file: " +
                     pki_.Path("ca.pem").string() +
                     "}\n"
                     "    static_configs: [{targets: ['" +
                     tls_address + "']}]\n");
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return UpOf(vigil, "https_via_proxy") == "1"; }, 20s))
      << vigil.Logs();
  const auto heads = proxy.request_heads();
  ASSERT_FALSE(heads.empty());
  const std::string& head = heads.front();
  EXPECT_TRUE(head.starts_with("CONNECT " + tls_address + " HTTP/1.1\r\n")) << head;
  EXPECT_NE(head.find("\r\nX-Proxy-Token: tok-4711\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nX-Proxy-Token: tok-4712"), std::string::npos) << head;
  // base64("pu:proxy-pw")
  EXPECT_NE(head.find("\r\nProxy-Authorization: Basic cHU6cHJveHktcHc="), std::string::npos)
      << head;
  const std::string shown = vigil.Get("/api/v1/status/config").body;
  EXPECT_EQ(shown.find("tok-47"), std::string::npos) << shown;
  EXPECT_NE(shown.find("<secret>"), std::string::npos) << shown;
}

}  // namespace
}  // namespace vigil::e2e
