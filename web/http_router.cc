#include "web/http_router.h"

#include <httplib.h>

#include <algorithm>

#include "web/api_response.h"

namespace vigil::web {

std::string HttpCall::Param(const std::string& name) const {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::vector<std::string> HttpCall::Params(const std::string& name) const {
  std::vector<std::string> out;
  const auto [begin, end] = params.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

std::string HttpCall::Header(const std::string& name) const {
  return request.get_header_value(name);
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeFormComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void ParseFormEncoded(std::string_view text, std::multimap<std::string, std::string>& out) {
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      const std::string_view key = pair.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      out.emplace(DecodeFormComponent(key), DecodeFormComponent(value));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
}

void Router::Handle(std::string_view method, std::string pattern, HttpHandler handler) {
  std::vector<std::string> segments;
  for (const auto s : SplitPath(pattern)) segments.emplace_back(s);
  for (auto& route : routes_) {
    if (route.segments == segments) {
      route.by_method[std::string(method)] = std::move(handler);
      return;
    }
  }
  Route route;
  route.pattern = std::move(pattern);
  route.segments = std::move(segments);
  route.by_method[std::string(method)] = std::move(handler);
  routes_.push_back(std::move(route));
}

void Router::HandleGetPost(std::string pattern, const HttpHandler& handler) {
  Handle("GET", pattern, handler);
  Handle("POST", std::move(pattern), handler);
}

bool Router::Match(const Route& route, const std::vector<std::string_view>& segments,
                   std::map<std::string, std::string>* captures) {
  const auto& pattern = route.segments;
  const bool wildcard = !pattern.empty() && pattern.back() == "*";
  const size_t fixed = wildcard ? pattern.size() - 1 : pattern.size();
  if (wildcard ? segments.size() < fixed : segments.size() != fixed) return false;
  for (size_t i = 0; i < fixed; ++i) {
    if (!pattern[i].empty() && pattern[i][0] == ':') {
      if (segments[i].empty()) return false;
      (*captures)[pattern[i].substr(1)] = std::string(segments[i]);
    } else if (pattern[i] != segments[i]) {
      return false;
    }
  }
  if (wildcard) {
    std::string rest;
    for (size_t i = fixed; i < segments.size(); ++i) {
      if (i > fixed) rest += '/';
      rest += segments[i];
    }
    (*captures)["*"] = std::move(rest);
  }
  return true;
}

std::string Router::Dispatch(HttpCall& call, httplib::Response& res) const {
  const auto segments = SplitPath(call.path);
  // HEAD is answered by the GET handler; httplib drops the body.
  const std::string method = call.method == "HEAD" ? "GET" : call.method;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> captures;
    if (!Match(route, segments, &captures)) continue;
    const auto it = route.by_method.find(method);
    if (it == route.by_method.end()) {
      std::vector<std::string> allowed{"OPTIONS"};
      for (const auto& [m, h] : route.by_method) allowed.push_back(m);
      std::sort(allowed.begin(), allowed.end());
      std::string allow;
      for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
      res.set_header("Allow", allow);
      WritePlainError(res, 405, "Method Not Allowed");
      return route.pattern;
    }
    call.path_params = std::move(captures);
    it->second(call, res);
    return route.pattern;
  }
  if (method == "GET" && fallback_) {
    fallback_(call, res);
  } else {
    WritePlainError(res, 404, "404 page not found");
  }
  return "/";
}

}  // namespace vigil::web
