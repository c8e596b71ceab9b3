// inventory_demo: a miniature "Inventory Manager" service for Vigil demos and
// tests. Serves the mission's inventory_* metrics on /metrics and a REST API on
// /api/items (GET list, POST create, GET/PUT/DELETE /api/items/<id>), whose
// calls move those metrics. A background client keeps traffic flowing so a
// dashboard shows moving values even when nobody calls the API.
//
//   inventory_demo [--listen-address=0.0.0.0:3000] [--db-error-rate=0.01]
//                  [--simulate-traffic=true] [--seed-items=25]
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "examples/inventory/inventory_metrics.h"
#include "examples/inventory/item_store.h"

namespace inventory {
namespace {

struct Flags {
  std::string listen_address = "0.0.0.0:3000";
  double db_error_rate = 0.01;
  bool simulate_traffic = true;
  int seed_items = 25;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "true" : arg.substr(eq + 1);
    if (name == "--listen-address") {
      flags->listen_address = value;
    } else if (name == "--db-error-rate") {
      flags->db_error_rate = std::stod(value);
    } else if (name == "--simulate-traffic") {
      flags->simulate_traffic = value == "true" || value == "1";
    } else if (name == "--seed-items") {
      flags->seed_items = std::stoi(value);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", arg.c_str());
      return false;
    }
  }
  return true;
}

nlohmann::json ToJson(const Item& item) {
  return {{"id", item.id},
          {"name", item.name},
          {"unitPrice", item.unit_price},
          {"quantity", item.quantity}};
}

// An API answer before it becomes an HTTP response.
struct Answer {
  int status;
  nlohmann::json body;
};

Answer ErrorAnswer(StoreError error) {
  if (error == StoreError::kNotFound) return {404, {{"error", "item not found"}}};
  return {500, {{"error", "database error"}}};
}

// Parses {"name":..., "unitPrice":..., "quantity":...}; nullopt when invalid.
std::optional<Item> ParseItem(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("name") || !json["name"].is_string()) return std::nullopt;
  Item item;
  item.name = json["name"].get<std::string>();
  item.unit_price = json.value("unitPrice", 0.0);
  item.quantity = json.value("quantity", int64_t{0});
  if (item.unit_price < 0 || item.quantity < 0) return std::nullopt;
  return item;
}

// The REST API's logic, shared by the HTTP handlers and the traffic simulator.
class ItemsApi {
 public:
  ItemsApi(InventoryMetrics* metrics, ItemStore* store) : metrics_(metrics), store_(store) {}

  Answer List() {
    return Observe("GET", "/api/items", [&] {
      StoreError e;
      const auto items = store_->List(&e);
      if (e != StoreError::kNone) return ErrorAnswer(e);
      nlohmann::json list = nlohmann::json::array();
      for (const auto& item : items) list.push_back(ToJson(item));
      return Answer{200, list};
    });
  }
  Answer Get(int64_t id) {
    return Observe("GET", "/api/items/:id", [&] {
      StoreError e;
      const auto item = store_->Get(id, &e);
      return item ? Answer{200, ToJson(*item)} : ErrorAnswer(e);
    });
  }
  Answer Create(const std::string& body) {
    return Observe("POST", "/api/items", [&] {
      const auto item = ParseItem(body);
      if (!item) return Answer{400, {{"error", "name, unitPrice and quantity are required"}}};
      StoreError e;
      const auto created = store_->Create(*item, &e);
      return created ? Answer{201, ToJson(*created)} : ErrorAnswer(e);
    });
  }
  Answer Update(int64_t id, const std::string& body) {
    return Observe("PUT", "/api/items/:id", [&] {
      const auto item = ParseItem(body);
      if (!item) return Answer{400, {{"error", "name, unitPrice and quantity are required"}}};
      StoreError e;
      const auto updated = store_->Update(id, *item, &e);
      return updated ? Answer{200, ToJson(*updated)} : ErrorAnswer(e);
    });
  }
  Answer Delete(int64_t id) {
    return Observe("DELETE", "/api/items/:id", [&] {
      StoreError e;
      return store_->Delete(id, &e) ? Answer{204, nullptr} : ErrorAnswer(e);
    });
  }

 private:
  template <typename Fn>
  Answer Observe(const char* method, const char* endpoint, Fn fn) {
    const auto start = std::chrono::steady_clock::now();
    Answer answer = fn();
    const double handler =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The handler itself is microseconds; add the simulated database time.
    metrics_->ObserveRequest(method, endpoint, answer.status, handler + store_->SampleLatency());
    return answer;
  }

  InventoryMetrics* metrics_;
  ItemStore* store_;
};

void Reply(httplib::Response& res, const Answer& answer) {
  res.status = answer.status;
  if (answer.status != 204) res.set_content(answer.body.dump(), "application/json");
}

int64_t IdOf(const httplib::Request& req) { return std::stoll(req.matches[1].str()); }

void RegisterRoutes(httplib::Server& http, ItemsApi& api, InventoryMetrics& metrics,
                    ItemStore& store) {
  http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(static_cast<double>(store.size())),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http.Get("/api/items",
           [&](const httplib::Request&, httplib::Response& res) { Reply(res, api.List()); });
  http.Post("/api/items", [&](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Create(req.body));
  });
  http.Get(R"(/api/items/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Get(IdOf(req)));
  });
  http.Put(R"(/api/items/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Update(IdOf(req), req.body));
  });
  http.Delete(R"(/api/items/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    Reply(res, api.Delete(IdOf(req)));
  });
}

// A background client: a mix of reads and writes a few times per second.
class TrafficSimulator {
 public:
  explicit TrafficSimulator(ItemsApi* api) : api_(api), thread_([this] { Run(); }) {}
  ~TrafficSimulator() {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::mt19937 rng(42);
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
      const int dice = static_cast<int>(rng() % 100);
      const int64_t id = 1 + static_cast<int64_t>(rng() % 40);  // some ids do not exist: 404s
      if (dice < 45) {
        api_->Get(id);
      } else if (dice < 70) {
        api_->List();
      } else if (dice < 85) {
        api_->Create(R"({"name":"widget","unitPrice":9.99,"quantity":)" +
                     std::to_string(rng() % 100) + "}");
      } else if (dice < 95) {
        api_->Update(id, R"({"name":"widget v2","unitPrice":12.5,"quantity":3})");
      } else {
        api_->Delete(id);
      }
    }
  }

  ItemsApi* api_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

int Main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  const auto colon = flags.listen_address.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen-address must be host:port\n");
    return 2;
  }
  std::string host = flags.listen_address.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  const int port = std::stoi(flags.listen_address.substr(colon + 1));

  // Signals are taken by sigwait below, not by whichever thread they hit.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  InventoryMetrics metrics;
  ItemStore store(&metrics, flags.db_error_rate, 7);
  ItemsApi api(&metrics, &store);
  for (int i = 0; i < flags.seed_items; ++i) {
    api.Create(R"({"name":"item )" + std::to_string(i) + R"(","unitPrice":)" +
               std::to_string(1 + i % 20) + R"(.5,"quantity":)" + std::to_string(10 + i) + "}");
  }
  httplib::Server http;
  RegisterRoutes(http, api, metrics, store);
  if (!http.bind_to_port(host, port)) {
    std::fprintf(stderr, "cannot listen on %s\n", flags.listen_address.c_str());
    return 1;
  }
  std::thread server([&] { http.listen_after_bind(); });
  std::optional<TrafficSimulator> simulator;
  if (flags.simulate_traffic) simulator.emplace(&api);
  std::fprintf(stderr, "inventory_demo listening on %s\n", flags.listen_address.c_str());

  int sig = 0;
  sigwait(&signals, &sig);
  simulator.reset();
  http.stop();
  server.join();
  return 0;
}

}  // namespace
}  // namespace inventory

int main(int argc, char** argv) { return inventory::Main(argc, argv); }
