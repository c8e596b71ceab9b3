#include "src/admin_cli.h"

#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>

#include "src/flags.h"
#include "base/duration.h"

namespace vigil {
namespace {

using nlohmann::json;

constexpr const char* kUsage =
    "usage: vigil admin [--url=URL] [--output=text|json] COMMAND\n"
    "\n"
    "Commands:\n"
    "  retention show                          show the effective retention\n"
    "  retention set [--time=45d] [--size=20GB]  change it at runtime (persisted)\n"
    "  delete-series --match=SELECTOR... [--start=T] [--end=T]\n"
    "  clean-tombstones\n"
    "  snapshot [--skip-head]\n"
    "  compact\n";

// What one command sends and how it prints a success.
struct Request {
  std::string method;  // GET, POST or PUT
  std::string path;    // below the API root, e.g. "/api/v1/admin/tsdb/compact"
  httplib::Params params;
};

// Splits "http://host:9090/prefix" into the client base and the path prefix.
void SplitUrl(const std::string& url, std::string* base, std::string* prefix) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  *base = slash == std::string::npos ? url : url.substr(0, slash);
  *prefix = slash == std::string::npos ? "" : url.substr(slash);
  while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
}

FlagSet AdminFlags() {
  FlagSet f("vigil admin");
  f.AddString("url", "http://localhost:9090", "URL of the running Vigil server.");
  f.AddString("output", "text", "Output format: text or json.",
              ValidateOneOf({"text", "json"}));
  f.AddString("time", "", "Retention time, e.g. 45d (retention set).", ValidateDuration);
  f.AddString("size", "", "Retention size, e.g. 20GB; 0 disables (retention set).",
              ValidateOptionalByteSize);
  f.AddRepeated("match", "Series selector (delete-series); repeatable.");
  f.AddString("start", "", "Start time, RFC 3339 or Unix seconds (delete-series).");
  f.AddString("end", "", "End time, RFC 3339 or Unix seconds (delete-series).");
  f.AddBool("skip-head", false, "Skip data still in the head (snapshot).");
  return f;
}

// Builds the HTTP request for the command named by the positional arguments.
bool BuildRequest(const FlagSet& f, Request* req, std::string* error) {
  const auto& pos = f.positional();
  auto command = pos.empty() ? std::string() : pos[0];
  if (command == "retention" && pos.size() == 2 && pos[1] == "show") {
    *req = {"GET", "/api/v1/admin/retention", {}};
  } else if (command == "retention" && pos.size() == 2 && pos[1] == "set") {
    if (!f.IsSet("time") && !f.IsSet("size")) {
      *error = "retention set needs --time and/or --size";
      return false;
    }
    *req = {"PUT", "/api/v1/admin/retention", {}};
    if (f.IsSet("time")) req->params.emplace("time", f.Get("time"));
    if (f.IsSet("size")) req->params.emplace("size", f.Get("size").empty() ? "0" : f.Get("size"));
  } else if (command == "delete-series" && pos.size() == 1) {
    if (f.GetAll("match").empty()) {
      *error = "delete-series needs at least one --match selector";
      return false;
    }
    *req = {"POST", "/api/v1/admin/tsdb/delete_series", {}};
    for (const auto& m : f.GetAll("match")) req->params.emplace("match[]", m);
    if (f.IsSet("start")) req->params.emplace("start", f.Get("start"));
    if (f.IsSet("end")) req->params.emplace("end", f.Get("end"));
  } else if (command == "clean-tombstones" && pos.size() == 1) {
    *req = {"POST", "/api/v1/admin/tsdb/clean_tombstones", {}};
  } else if (command == "snapshot" && pos.size() == 1) {
    *req = {"POST", "/api/v1/admin/tsdb/snapshot", {}};
    if (f.GetBool("skip-head")) req->params.emplace("skip_head", "true");
  } else if (command == "compact" && pos.size() == 1) {
    *req = {"POST", "/api/v1/admin/tsdb/compact", {}};
  } else {
    *error = command.empty() ? "missing command" : "unknown command: " + command;
    return false;
  }
  return true;
}

httplib::Result Send(httplib::Client& client, const std::string& prefix, const Request& req) {
  std::string path = prefix + req.path;
  if (req.method == "GET") return client.Get(path, req.params, httplib::Headers{});
  if (req.method == "PUT") return client.Put(path, req.params);
  return client.Post(path, req.params);
}

// Human-readable success line(s) for each command.
std::string DescribeSuccess(const FlagSet& f, const json& data) {
  const std::string& command = f.positional()[0];
  if (command == "retention") {
    std::string size = data.value("size", "0B");
    return "Retention time: " + data.value("time", "") + "\n" +
           "Retention size: " + (size == "0B" || size.empty() ? "unlimited" : size) + "\n" +
           "Source:         " + data.value("source", "") + "\n";
  }
  if (command == "delete-series") {
    std::string sel;
    for (const auto& m : f.GetAll("match")) sel += (sel.empty() ? "" : ", ") + m;
    return "Deleted data of series matching " + sel + "\n";
  }
  if (command == "clean-tombstones") return "Tombstones cleaned.\n";
  if (command == "snapshot") {
    return "Snapshot created: " + data.value("name", "") + " (in the server's <storage.tsdb.path>/snapshots/)\n";
  }
  return "Compaction finished.\n";
}

// Turns a non-2xx reply into "HTTP 500 (unavailable): admin APIs disabled".
std::string DescribeFailure(const httplib::Response& res) {
  json body = json::parse(res.body, nullptr, false);
  std::string out = "HTTP " + std::to_string(res.status);
  if (!body.is_discarded() && body.is_object() && body.contains("error")) {
    return out + " (" + body.value("errorType", "error") + "): " + body.value("error", "");
  }
  std::string text = res.body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return out + ": " + (text.empty() ? res.reason : text);
}

}  // namespace

int RunAdminCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  FlagSet f = AdminFlags();
  if (Status st = f.Parse(args); !st.ok()) {
    err << "vigil admin: error: " << st.message() << "\n" << kUsage;
    return 1;
  }
  if (f.help()) {
    out << kUsage;
    return 0;
  }
  Request req;
  std::string error;
  if (!BuildRequest(f, &req, &error)) {
    err << "vigil admin: error: " << error << "\n" << kUsage;
    return 1;
  }
  std::string base, prefix;
  SplitUrl(f.Get("url"), &base, &prefix);
  httplib::Client client(base);
  client.set_connection_timeout(5);
  client.set_read_timeout(600);  // snapshots and compactions of big stores take a while
  auto res = Send(client, prefix, req);
  if (!res) {
    err << "vigil admin: cannot reach " << f.Get("url") << ": " << httplib::to_string(res.error())
        << "\n";
    return 1;
  }
  if (res->status < 200 || res->status >= 300) {
    err << "vigil admin: " << req.path << " failed: " << DescribeFailure(*res) << "\n";
    return 1;
  }
  json body = json::parse(res->body, nullptr, false);
  json data = (!body.is_discarded() && body.is_object()) ? body.value("data", json::object())
                                                         : json::object();
  if (f.Get("output") == "json") {
    out << json{{"status", "success"}, {"data", data}}.dump() << "\n";
  } else {
    out << DescribeSuccess(f, data);
  }
  return 0;
}

}  // namespace vigil
