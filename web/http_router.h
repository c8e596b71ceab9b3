// Router: maps (method, path pattern) to handlers and answers unknown paths
// and wrong methods the way Prometheus's router does (404 "404 page not
// found", 405 "Method Not Allowed" with an Allow header).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace vigil::web {

// One request as handlers see it: the path below the route prefix and the
// parameters of the query string and a form-encoded body, merged.
struct HttpCall {
  const httplib::Request& request;
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string body;                                // raw body (empty for GET)
  std::map<std::string, std::string> path_params;  // ":name" segments

  // The first value of a parameter, or "" when absent.
  std::string Param(const std::string& name) const;
  bool HasParam(const std::string& name) const { return params.count(name) > 0; }
  // Every value of a repeated parameter such as match[].
  std::vector<std::string> Params(const std::string& name) const;
  std::string Header(const std::string& name) const;
};

using HttpHandler = std::function<void(const HttpCall&, httplib::Response&)>;

class Router {
 public:
  // `pattern` is a path whose segments may be ":name" (one segment, captured)
  // or a final "*" (the rest of the path, captured as "*").
  void Handle(std::string_view method, std::string pattern, HttpHandler handler);
  // Convenience: the same handler for GET and POST, as Prometheus's query API.
  void HandleGetPost(std::string pattern, const HttpHandler& handler);

  // Answers GET/HEAD requests no route matches (the UI's assets); it writes
  // the 404 itself when it has nothing either.
  void SetGetFallback(HttpHandler handler) { fallback_ = std::move(handler); }

  // Runs the matching handler, or writes 404 / 405. Returns the matched
  // route's pattern ("/api/v1/label/:name/values"), or "/" when none matched
  // (Prometheus's handler label for unknown paths).
  std::string Dispatch(HttpCall& call, httplib::Response& res) const;

 private:
  struct Route {
    std::string pattern;
    std::vector<std::string> segments;
    std::map<std::string, HttpHandler, std::less<>> by_method;
  };
  static bool Match(const Route& route, const std::vector<std::string_view>& segments,
                    std::map<std::string, std::string>* captures);

  std::vector<Route> routes_;
  HttpHandler fallback_;
};

// Splits "/a/b/c" into {"a","b","c"} (a trailing slash gives a final "").
std::vector<std::string_view> SplitPath(std::string_view path);
// Decodes application/x-www-form-urlencoded text into `out`.
void ParseFormEncoded(std::string_view text, std::multimap<std::string, std::string>& out);

}  // namespace vigil::web
