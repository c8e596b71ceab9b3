// Server: binds the listener, turns each httplib request into an HttpCall
// (route prefix stripped, query and form parameters merged, body bounded),
// applies CORS and readiness, and dispatches through the Router.
#include "web/server.h"

#include <httplib.h>
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "base/logger.h"
#include "web/admin_api.h"
#include "web/api_context.h"
#include "web/api_response.h"
#include "web/basic_auth.h"
#include "web/http_connection.h"
#include "web/process_metrics.h"
#include "web/request_metrics.h"

namespace vigil::web {
namespace {

// Prometheus's CORS headers for API responses to requests with an Origin.
void SetCors(const RE2& origin_re, bool allow_any, const httplib::Request& req,
             httplib::Response& res) {
  const std::string origin = req.get_header_value("Origin");
  if (origin.empty()) return;
  res.set_header("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Origin");
  res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  res.set_header("Access-Control-Expose-Headers", "Date");
  res.set_header("Vary", "Origin");
  if (allow_any) {
    res.set_header("Access-Control-Allow-Origin", "*");
  } else if (RE2::FullMatch(origin, origin_re)) {
    res.set_header("Access-Control-Allow-Origin", origin);
  }
}

// "host:port", ":port" or "[v6]:port".
Result<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("address " + address + ": missing port in address");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  const std::string port_text = address.substr(colon + 1);
  int port = 0;
  const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    return Status::InvalidArgument("address " + address + ": invalid port");
  }
  return std::make_pair(host, port);
}

// The route prefix normalised to "" (root) or "/prefix" without a trailing slash.
std::string NormalisePrefix(std::string prefix) {
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty() && prefix.front() != '/') prefix.insert(prefix.begin(), '/');
  return prefix;
}

bool IsApiPath(std::string_view path) { return path.starts_with("/api/"); }

// Paths answered before the server is ready, as Prometheus does: everything
// but the API and /federate, which need a complete storage.
bool NeedsReady(std::string_view path) { return IsApiPath(path) || path == "/federate"; }

ConnectionLimits LimitsFrom(const ServerOptions& options) {
  ConnectionLimits limits;
  limits.max_connections = std::max(1, options.max_connections);
  // 0 means no deadline, as Go's ReadTimeout.
  constexpr int64_t kNoDeadlineMs = int64_t{10} * 365 * 24 * 3600 * 1000;
  limits.read_timeout_ms = options.read_timeout_ms > 0 ? options.read_timeout_ms : kNoDeadlineMs;
  limits.idle_timeout_ms = options.idle_timeout_ms;
  limits.write_timeout_ms = options.write_timeout_ms;
  return limits;
}

// The answer to a request body over --web.max-request-bytes, in the API's
// error format. The unread body is drained after it, then the connection closes.
void WriteBodyTooLarge(httplib::Response& res, int64_t limit) {
  WriteApiError(res, {ApiErrorType::kBadData,
                      "request body too large: limit is " + std::to_string(limit) + " bytes"});
  res.status = 413;
  res.set_header("Connection", "close");
  CloseConnectionAfterResponse();
}

// The web config file at work on a request (read again when it changed, as
// exporter-toolkit reads it per request): its extra headers, then basic auth.
// False when the request was answered (401, or 500 when the file no longer
// parses).
bool Authorize(WebConfigFile* file, BasicAuthenticator& auth, const httplib::Request& req,
               httplib::Response& res) {
  if (file == nullptr) return true;
  const auto web = file->Current();
  if (!web.ok()) {
    VLOG_ERROR("Unable to parse configuration",
               {{"component", "web"}, {"err", web.status().message()}});
    res.status = 500;
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content("Internal Server Error\n", "text/plain; charset=utf-8");
    return false;
  }
  for (const auto& [name, value] : (*web)->headers) res.set_header(name, value);
  const auto& users = (*web)->basic_auth_users;
  if (users.empty() || auth.Check(users, req.get_header_value("Authorization"))) return true;
  res.status = 401;
  res.set_header("WWW-Authenticate", "Basic");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content("Unauthorized\n", "text/plain; charset=utf-8");
  return false;
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions options, ServerDeps deps)
      : origin_re("^(?:" + options.cors_origin + ")$"),
        allow_any_origin(options.cors_origin == ".*"),
        prefix(NormalisePrefix(options.route_prefix)),
        process_metrics(options.build),
        http(LimitsFrom(options)) {
    ctx.options = std::move(options);
    ctx.deps = std::move(deps);
    ctx.start_time_ms = ctx.options.clock->NowMillis();
    ctx.last_config_time_ms = ctx.start_time_ms;
    RegisterQueryApi(router, ctx);
    RegisterSeriesApi(router, ctx);
    RegisterTargetsApi(router, ctx);
    RegisterStatusApi(router, ctx);
    RegisterRulesApi(router, ctx);
    RegisterFederation(router, ctx);
    RegisterRemoteApi(router, ctx);
    RegisterOtlpApi(router, ctx);
    RegisterLifecycle(router, ctx);
    RegisterAdminApi(router, ctx);
    RegisterUi(router, ctx);
  }

  void Configure();
  Status SetUpWebConfig();
  void Serve(const httplib::Request& req, httplib::Response& res, std::string body);
  void ServeWithBody(const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader);

  ApiContext ctx;
  Router router;
  RE2 origin_re;
  bool allow_any_origin;
  std::string prefix;
  ProcessMetrics process_metrics;
  RequestMetrics request_metrics{&ctx.ready};
  BasicAuthenticator basic_auth;
  std::unique_ptr<WebConfigFile> web_config_file;  // null without --web.config.file
  HttpConnectionServer http;
  std::thread listener;
  int bound_port = 0;
  bool started = false;
};

void Server::Impl::Configure() {
  const int max_connections = http.limits().max_connections;
  // httplib takes ownership of the queue it gets from this factory.
  http.new_task_queue = [max_connections] { return new ConnectionPool(max_connections); };
  // httplib writes headers and body with separate send()s; with Nagle on, the
  // body of a small answer on a kept-alive connection (Grafana's) waits for the
  // client's delayed ACK: ~40 ms per query.
  http.set_tcp_nodelay(true);
  // Advertised in Keep-Alive headers; HttpConnectionServer applies the limits.
  http.set_keep_alive_max_count(static_cast<size_t>(http.limits().keep_alive_max_requests));
  http.set_keep_alive_timeout(std::max<int64_t>(1, ctx.options.idle_timeout_ms / 1000));
  // The accepted socket's SO_RCVTIMEO/SO_SNDTIMEO; reads and writes wait in
  // poll() against the request's deadline first, so these are backstops.
  http.set_read_timeout(1, 0);
  http.set_write_timeout(ctx.options.write_timeout_ms / 1000,
                         (ctx.options.write_timeout_ms % 1000) * 1000);
  http.set_payload_max_length(static_cast<size_t>(ctx.options.max_request_bytes));
  // A client announcing a body over the limit is answered before it sends it.
  http.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    const auto limit = static_cast<uint64_t>(ctx.options.max_request_bytes);
    if (req.get_header_value<uint64_t>("Content-Length") <= limit) return 100;
    WriteBodyTooLarge(res, ctx.options.max_request_bytes);
    return 413;
  });
  // httplib's own 413 (a body sent to a route that does not stream it).
  using ErrorHandler = httplib::Server::HandlerWithResponse;
  http.set_error_handler(ErrorHandler([this](const httplib::Request&, httplib::Response& res) {
    if (res.status != 413 || !res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    WriteBodyTooLarge(res, ctx.options.max_request_bytes);
    return httplib::Server::HandlerResponse::Handled;
  }));

  const auto plain = [this](const httplib::Request& req, httplib::Response& res) {
    if (Authorize(web_config_file.get(), basic_auth, req, res)) Serve(req, res, std::string());
  };
  const auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) {
    if (Authorize(web_config_file.get(), basic_auth, req, res))
      return ServeWithBody(req, res, reader);
    CloseConnectionAfterResponse();  // the body was not read
  };
  http.Get(".*", plain);
  http.Options(".*", plain);
  http.Post(".*", with_body);
  http.Put(".*", with_body);
  http.Patch(".*", with_body);
  http.Delete(".*", with_body);
}

Status Server::Impl::SetUpWebConfig() {
  const std::string path = ctx.options.web_config_file;
  if (path.empty()) {
    VLOG_INFO("TLS is disabled.", {{"component", "web"}, {"http2", "false"}});
    return Status::OK();
  }
  auto loaded = LoadWebConfig(path);
  if (!loaded.ok()) return loaded.status();
  const bool tls = (*loaded)->tls != nullptr;
  web_config_file = std::make_unique<WebConfigFile>(path, (*loaded)->config);
  http.SetWebConfigLoader([path] { return LoadWebConfig(path); }, tls);
  VLOG_INFO(tls ? "TLS is enabled." : "TLS is disabled.",
            {{"component", "web"}, {"http2", "false"}});
  return Status::OK();
}

void Server::Impl::ServeWithBody(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader) {
  // A POST without Content-Length or chunked encoding has no body (e.g.
  // `curl -X POST .../admin/tsdb/snapshot`); asking the reader would wait for
  // the client to close the connection.
  if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
    return Serve(req, res, std::string());
  }
  std::string body;
  const auto limit = static_cast<size_t>(ctx.options.max_request_bytes);
  bool too_large = req.get_header_value<uint64_t>("Content-Length") > limit;
  const bool complete = !too_large && reader([&](const char* data, size_t length) {
    if (body.size() + length > limit) {
      too_large = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  // The unread rest of the body would be taken for the next request: the
  // connection closes after the answer.
  if (too_large) return WriteBodyTooLarge(res, ctx.options.max_request_bytes);
  if (!complete) {
    CloseConnectionAfterResponse();  // where the unread body ends is unknown
    return WritePlainError(res, 400, "failed to read the request body");
  }
  Serve(req, res, std::move(body));
}

void Server::Impl::Serve(const httplib::Request& req, httplib::Response& res, std::string body) {
  std::string path = req.path;
  if (!prefix.empty()) {
    if (path == "/") {
      res.status = 302;
      res.set_header("Location", prefix);
      return;
    }
    if (path != prefix && !path.starts_with(prefix + "/")) {
      return WritePlainError(res, 404, "404 page not found");
    }
    path.erase(0, prefix.size());
    if (path.empty()) path = "/";
  }
  if (IsApiPath(path)) {
    SetCors(origin_re, allow_any_origin, req, res);
    if (req.method == "OPTIONS") {
      res.status = 204;
      return;
    }
  }
  if (NeedsReady(path) && !ctx.ready.load()) {
    res.status = 503;
    res.set_content("Service Unavailable", "text/plain; charset=utf-8");
    return;
  }
  HttpCall call{req, req.method, std::move(path), {}, std::move(body), {}};
  // The query string is split here rather than taken from httplib's params:
  // httplib cuts a pair at every '=', so `?match[]={job="x"}` sent unencoded
  // (as `curl -g` does) lost its value; Go, and so Prometheus, splits at the first.
  if (const size_t q = req.target.find('?'); q != std::string::npos) {
    ParseFormEncoded(std::string_view(req.target).substr(q + 1), call.params);
  }
  if (req.get_header_value("Content-Type").starts_with("application/x-www-form-urlencoded")) {
    ParseFormEncoded(call.body, call.params);
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string handler = router.Dispatch(call, res);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  request_metrics.Observe(handler, res.status == -1 ? 200 : res.status, seconds, res.body.size());
}

Server::Server(ServerOptions options, ServerDeps deps)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(deps))) {
  impl_->Configure();
}

Server::~Server() { Stop(); }

Status Server::Start() {
  if (impl_->started) return Status::OK();
  if (!impl_->origin_re.ok()) {
    return Status::InvalidArgument("could not compile CORS regex \"" +
                                   impl_->ctx.options.cors_origin +
                                   "\": " + impl_->origin_re.error());
  }
  if (Status st = impl_->SetUpWebConfig(); !st.ok()) return st;
  auto hp = SplitHostPort(impl_->ctx.options.listen_address);
  if (!hp.ok()) return hp.status();
  const auto& [host, port] = *hp;
  if (port == 0) {
    impl_->bound_port = impl_->http.bind_to_any_port(host);
  } else if (impl_->http.bind_to_port(host, port)) {
    impl_->bound_port = port;
  } else {
    impl_->bound_port = -1;
  }
  if (impl_->bound_port > 0) impl_->http.RaiseBacklog();
  if (impl_->bound_port <= 0) {
    return Status::IOError("listen tcp " + impl_->ctx.options.listen_address +
                           ": bind: address already in use or not available");
  }
  impl_->started = true;
  impl_->listener = std::thread([this] { impl_->http.listen_after_bind(); });
  VLOG_INFO("Start listening for connections", {{"address", impl_->ctx.options.listen_address},
                                                {"port", std::to_string(impl_->bound_port)}});
  return Status::OK();
}

void Server::Stop() {
  if (!impl_ || !impl_->started) return;
  impl_->http.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
  impl_->started = false;
}

void Server::SetReady(bool ready) { impl_->ctx.ready.store(ready); }

int Server::port() const { return impl_->bound_port; }

}  // namespace vigil::web
