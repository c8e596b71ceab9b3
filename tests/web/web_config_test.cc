// --web.config.file parsing and validation (web/web_config.h), compared with
// `promtool check web-config` where Debian's promtool is installed, and the
// basic auth checker (web/basic_auth.h).
#include "web/web_config.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "tests/support/child_process.h"
#include "tests/support/test_dirs_and_ports.h"
#include "web/basic_auth.h"

namespace vigil::web {
namespace {

namespace fs = std::filesystem;

// bcrypt (cost 4) of "s3cret".
constexpr char kHash[] = "$2b$04$cLIss7aIJ8zWbroRUZ7vhOJPG/Kat9KNPZ99f5yy0dDm04pko5B8S";

class WebConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string out;
    ASSERT_EQ(test_support::RunToCompletion(
                  {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", Path("k.pem"), "-out",
                   Path("c.pem"), "-days", "1", "-subj", "/CN=localhost"},
                  &out),
              0)
        << out;
  }
  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name)) << text;
    return Path(name);
  }
  // What `vigil check web-config FILE` prints, and its exit code.
  std::pair<int, std::string> Check(const std::string& file) const {
    std::ostringstream err;
    const int rc = RunCheckWebConfig({file}, err);
    return {rc, err.str()};
  }

  test_support::TempDir dir_;
};

const std::string kTls = "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n";

// Files on which Vigil and promtool 2.42 must print the same verdict and text.
std::vector<std::pair<std::string, std::string>> SharedCases() {
  return {
      {"empty.yml", ""},
      {"tls.yml", kTls},
      {"users.yml", std::string("basic_auth_users:\n  alice: ") + kHash + "\n"},
      {"all.yml", kTls +
                      "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: c.pem\n"
                      "  min_version: TLS12\n  max_version: TLS13\n"
                      "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n"
                      "  curve_preferences: [CurveP256, X25519]\n"
                      "  prefer_server_cipher_suites: false\n"
                      "http_server_config:\n  http2: false\n  headers:\n"
                      "    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=3600\n"},
      {"unknown_tls_field.yml", kTls + "  foo: 1\n"},
      {"unknown_top_field.yml", "foo: 1\n"},
      {"unknown_http_field.yml", "http_server_config:\n  bar: 1\n"},
      {"short_hash.yml", "basic_auth_users:\n  u: notahash\n"},
      {"hash_prefix.yml", "basic_auth_users:\n  u: x" + std::string(kHash).substr(1) + "\n"},
      {"hash_cost.yml", "basic_auth_users:\n  u: $2b$99" + std::string(kHash).substr(6) + "\n"},
      {"hash_version.yml", "basic_auth_users:\n  u: $3" + std::string(kHash).substr(2) + "\n"},
      {"header_not_allowed.yml", "http_server_config:\n  headers:\n    Foo: bar\n"},
      {"header_value.yml", "http_server_config:\n  headers:\n    X-Frame-Options: allow\n"},
      {"missing_key.yml", "tls_server_config:\n  cert_file: c.pem\n"},
      {"missing_cert.yml", "tls_server_config:\n  client_auth_type: RequireAnyClientCert\n"},
      {"client_auth.yml", kTls + "  client_auth_type: Foo\n"},
      {"ca_without_policy.yml", kTls + "  client_ca_file: c.pem\n"},
      {"version.yml", kTls + "  min_version: TLS9\n"},
      {"cipher.yml", kTls + "  cipher_suites: [FOO]\n"},
      {"curve.yml", kTls + "  curve_preferences: [P256]\n"},
      {"absent_cert.yml", "tls_server_config:\n  cert_file: nope.pem\n  key_file: k.pem\n"},
      {"key_is_cert.yml", "tls_server_config:\n  cert_file: c.pem\n  key_file: c.pem\n"},
  };
}

TEST_F(WebConfigFiles, VerdictsMatchPromtool) {
  if (!fs::exists("/usr/bin/promtool"))
    GTEST_SKIP() << "promtool missing (apt-get install prometheus)";
  for (const auto& [name, text] : SharedCases()) {
    SCOPED_TRACE(name);
    const std::string file = Write(name, text);
    std::string promtool;
    const int promtool_rc = test_support::RunToCompletion(
        {"/usr/bin/promtool", "check", "web-config", file}, &promtool);
    const auto [rc, vigil] = Check(file);
    EXPECT_EQ(rc, promtool_rc);
    EXPECT_EQ(vigil, promtool);
  }
}

TEST_F(WebConfigFiles, ClientAllowedSansIsAcceptedAsInPrometheus248) {
  // exporter-toolkit 0.10 (Prometheus 2.48) added client_allowed_sans; 2.42 refuses it.
  const auto [rc, out] = Check(Write("sans.yml", kTls + "  client_auth_type: RequireAnyClientCert\n"
                                                        "  client_allowed_sans: [a.example]\n"));
  EXPECT_EQ(rc, 0) << out;
}

TEST_F(WebConfigFiles, EveryFileIsCheckedAndAnyFailureFails) {
  std::ostringstream err;
  const int rc = RunCheckWebConfig({Write("a.yml", kTls), Write("b.yml", "foo: 1\n")}, err);
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.str().find("a.yml SUCCESS\n"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("b.yml FAILED: yaml: unmarshal errors:\n  line 1: field foo not found"),
            std::string::npos)
      << err.str();
}

TEST_F(WebConfigFiles, RelativePathsAreRelativeToTheFilesFolder) {
  auto config = ParseWebConfigFile(Write("rel.yml", kTls));
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->tls.cert_file, Path("c.pem"));
  EXPECT_EQ(config->tls.key_file, Path("k.pem"));
}

// The web config audit: every field of exporter-toolkit v0.10.0's
// docs/web-configuration.md (the version Prometheus 2.48's go.mod pins) is
// accepted, and takes effect (e2e_web_tls_test covers TLS, client
// certificates, headers and users); fields of later exporter-toolkit
// releases (inline `cert`/`key`/`client_ca`, `rate_limit`) are refused, so a
// file written for a newer server never looks as if it worked. If this test
// fails because the parser learnt a field, give that field a verdict here.
TEST_F(WebConfigFiles, AuditEveryDocumentedFieldIsAcceptedAndLaterOnesRefused) {
  const std::string policy =
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  client_ca_file: c.pem\n";
  const std::vector<std::pair<std::string, std::string>> documented = {
      {"tls_server_config.cert_file/key_file", kTls},
      {"tls_server_config.client_auth_type/client_ca_file", kTls + policy},
      {"tls_server_config.client_allowed_sans", kTls + policy + "  client_allowed_sans: [a]\n"},
      {"tls_server_config.min_version", kTls + "  min_version: TLS13\n"},
      {"tls_server_config.max_version", kTls + "  max_version: TLS12\n"},
      {"tls_server_config.cipher_suites",
       kTls + "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n"},
      {"tls_server_config.prefer_server_cipher_suites",
       kTls + "  prefer_server_cipher_suites: true\n"},
      {"tls_server_config.curve_preferences", kTls + "  curve_preferences: [X25519]\n"},
      {"http_server_config.http2", "http_server_config:\n  http2: true\n"},
      {"http_server_config.headers",
       "http_server_config:\n  headers:\n    Content-Security-Policy: default-src 'self'\n"
       "    X-Frame-Options: sameorigin\n    X-Content-Type-Options: nosniff\n"
       "    X-XSS-Protection: '1'\n    Strict-Transport-Security: max-age=60\n"},
      {"basic_auth_users", std::string("basic_auth_users:\n  bob: ") + kHash + "\n"},
  };
  for (const auto& [field, text] : documented) {
    SCOPED_TRACE(field);
    const auto [rc, out] = Check(Write("documented.yml", text));
    EXPECT_EQ(rc, 0) << out;
  }
  using Later = std::tuple<std::string, std::string, std::string>;  // field, file, Go type
  const std::vector<Later> later = {
      {"cert", kTls + "  cert: x\n", "web.TLSConfig"},
      {"key", kTls + "  key: x\n", "web.TLSConfig"},
      {"client_ca", kTls + "  client_ca: x\n", "web.TLSConfig"},
      {"rate_limit", "rate_limit:\n  interval: 1s\n  burst: 5\n", "web.Config"},
  };
  for (const auto& [field, text, type] : later) {
    SCOPED_TRACE(field);
    const auto [rc, out] = Check(Write("later.yml", text));
    EXPECT_EQ(rc, 1);
    EXPECT_NE(out.find("field " + field + " not found in type " + type), std::string::npos) << out;
  }
}

TEST(BasicAuth, ParsesBasicAuthorizationHeaders) {
  std::string user, password;
  ASSERT_TRUE(ParseBasicAuthorization("Basic YWxpY2U6czNjcmV0", &user, &password));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "s3cret");
  ASSERT_TRUE(ParseBasicAuthorization("basic YTpiOmM=", &user, &password));  // "a:b:c"
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "b:c");
  EXPECT_FALSE(ParseBasicAuthorization("Bearer YWxpY2U6czNjcmV0", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic bm9jb2xvbg==", &user, &password));  // "nocolon"
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("", &user, &password));
}

TEST(BasicAuth, VerifiesBcryptHashesThroughLibcrypt) {
  EXPECT_TRUE(BasicAuthenticator::VerifyBcrypt(kHash, "s3cret"));
  EXPECT_FALSE(BasicAuthenticator::VerifyBcrypt(kHash, "s3cres"));
  EXPECT_FALSE(BasicAuthenticator::VerifyBcrypt("notahash", "s3cret"));
  // $2y$ (htpasswd's) and $2a$ hashes of the same password verify too.
  std::string y = kHash;
  y[2] = 'y';
  EXPECT_TRUE(BasicAuthenticator::VerifyBcrypt(y, "s3cret"));
}

TEST(BasicAuth, AcceptsOnlyAKnownUserWithTheRightPassword) {
  const std::map<std::string, std::string> users = {{"alice", kHash}};
  BasicAuthenticator auth;
  EXPECT_TRUE(auth.Check(users, "Basic YWxpY2U6czNjcmV0"));   // alice:s3cret
  EXPECT_FALSE(auth.Check(users, "Basic YWxpY2U6d3Jvbmc="));  // alice:wrong
  EXPECT_FALSE(auth.Check(users, "Basic Ym9iOnMzY3JldA=="));  // bob:s3cret
  EXPECT_FALSE(auth.Check(users, ""));
  // Outcomes are cached, but a changed hash (a rotated password) is a new key.
  const std::map<std::string, std::string> rotated = {{"alice", "$2b$04$" + std::string(53, 'A')}};
  EXPECT_FALSE(auth.Check(rotated, "Basic YWxpY2U6czNjcmV0"));
}

TEST(BasicAuth, CachedChecksDoNotPayBcryptAgain) {
  // bcrypt cost 10 of "s3cret": ~50-300 ms per check; ten cached checks
  // together must take far less than one.
  const std::string slow = "$2b$10$07PUUsP3Myp320VOJnaHsuT.ImYU3b5x3zlUrOkD1L.dgB6wik69a";
  const std::map<std::string, std::string> users = {{"alice", slow}};
  BasicAuthenticator auth;
  const auto first = std::chrono::steady_clock::now();
  ASSERT_TRUE(auth.Check(users, "Basic YWxpY2U6czNjcmV0"));
  const auto uncached = std::chrono::steady_clock::now() - first;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(auth.Check(users, "Basic YWxpY2U6czNjcmV0"));
  const auto cached = std::chrono::steady_clock::now() - start;
  EXPECT_LT(cached, uncached / 4);
}

}  // namespace
}  // namespace vigil::web
