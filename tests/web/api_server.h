// ApiServer: a web::Server on 127.0.0.1:<free port> over a MemoryStorage, a
// real PromQL engine and a manual clock, plus an HTTP client to call it.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "promql/engine.h"
#include "base/clock.h"
#include "tests/support/memory_storage.h"
#include "web/server.h"

namespace vigil::web::testing {

// 2023-11-14T22:13:20Z: "now" for every test unless it moves the clock.
inline constexpr int64_t kNowMs = 1'700'000'000'000;

struct Reply {
  int status = 0;  // 0: no answer
  std::string body;
  httplib::Headers headers;
  nlohmann::json Json() const { return nlohmann::json::parse(body); }
  std::string Header(const std::string& name) const;
};

// One HTTP request to 127.0.0.1:port (body decompression off, URL sent as is).
Reply Fetch(int port, const std::string& method, const std::string& path,
            const std::string& body = "", const std::string& content_type = "",
            const httplib::Headers& headers = {});

// A connected TCP socket to 127.0.0.1:port (blocking), or -1.
int ConnectLoopback(int port);

// "path?k=v&..." with every key and value percent-encoded.
std::string Url(const std::string& path,
                const std::vector<std::pair<std::string, std::string>>& params);
// The same parameters as an application/x-www-form-urlencoded body.
std::string Form(const std::vector<std::pair<std::string, std::string>>& params);

// Which store the server reads and writes.
enum class Backend {
  kMemory,  // storage::MemoryStorage
  kDisk,    // the real storage::Storage::Open in a temporary directory
};

class ApiServer {
 public:
  // `engine_options` configure the server's engine (its clock is the server's).
  explicit ApiServer(ServerOptions options = {}, ServerDeps deps = {}, bool ready = true,
                     Backend backend = Backend::kMemory, promql::EngineOptions engine_options = {});
  ~ApiServer();

  storage::Storage& db() { return *db_; }
  ManualClock& clock() { return clock_; }
  Server& server() { return *server_; }
  int port() const { return server_->port(); }

  // Adds one sample through an Appender (fails the test on error).
  void Add(const Labels& labels, int64_t t_ms, double v);

  Reply Get(const std::string& path, const httplib::Headers& headers = {});
  Reply PostForm(const std::string& path, const std::string& form);
  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& content_type = "", const httplib::Headers& headers = {});

 private:
  ManualClock clock_{kNowMs};
  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> db_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<Server> server_;
};

}  // namespace vigil::web::testing
