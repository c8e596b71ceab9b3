#include "tests/web/api_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>

namespace vigil::web::testing {

std::string Reply::Header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& params) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto encode = [](const std::string& text) {
    std::string out;
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += c;
      } else {
        out += '%';
        out += kHex[u >> 4];
        out += kHex[u & 15];
      }
    }
    return out;
  };
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += encode(k) + "=" + encode(v);
  }
  return out;
}

std::string Url(const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& params) {
  return params.empty() ? path : path + "?" + Form(params);
}

ApiServer::ApiServer(ServerOptions options, ServerDeps deps, bool ready, Backend backend,
                     promql::EngineOptions engine_options) {
  if (backend == Backend::kMemory) {
    db_ = std::make_unique<storage::MemoryStorage>();
  } else {
    char tmpl[] = "/tmp/vigil-web-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    storage::StorageOptions so;
    so.path = (dir_ / "data").string();
    so.wal_sync = storage::WalSyncPolicy::kNever;
    so.clock = &clock_;
    auto db = storage::Storage::Open(so);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (db.ok()) db_ = std::move(db).value();
    if (!db_) db_ = std::make_unique<storage::MemoryStorage>();
  }
  engine_options.clock = &clock_;
  engine_ = std::make_unique<promql::Engine>(engine_options);
  options.listen_address = "127.0.0.1:0";
  options.clock = &clock_;
  if (options.build.version.empty())
    options.build = {"0.1.0", "abc", "main", "vigil", "20261125", "gcc"};
  deps.db = db_.get();
  deps.engine = engine_.get();
  server_ = std::make_unique<Server>(std::move(options), std::move(deps));
  const Status st = server_->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  server_->SetReady(ready);
}

ApiServer::~ApiServer() {
  server_->Stop();
  (void)db_->Close();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void ApiServer::Add(const Labels& labels, int64_t t_ms, double v) {
  auto app = db_->NewAppender();
  const auto ref = app->Append(0, labels, t_ms, v);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  const Status st = app->Commit();
  ASSERT_TRUE(st.ok()) << st.ToString();
}

Reply Fetch(int port, const std::string& method, const std::string& path, const std::string& body,
            const std::string& content_type, const httplib::Headers& headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_decompress(false);
  client.set_url_encode(false);
  client.set_read_timeout(30, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = headers;
  req.body = body;
  if (!content_type.empty()) req.set_header("Content-Type", content_type);
  const auto res = client.send(req);
  Reply reply;
  if (!res) return reply;
  reply.status = res->status;
  reply.body = res->body;
  reply.headers = res->headers;
  return reply;
}

Reply ApiServer::Send(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type, const httplib::Headers& headers) {
  return Fetch(port(), method, path, body, content_type, headers);
}

Reply ApiServer::Get(const std::string& path, const httplib::Headers& headers) {
  return Send("GET", path, "", "", headers);
}

Reply ApiServer::PostForm(const std::string& path, const std::string& form) {
  return Send("POST", path, form, "application/x-www-form-urlencoded");
}

}  // namespace vigil::web::testing
