// The web UI's files, embedded into the binary at build time (see README.md in this folder).
//
// Paths are relative to the route prefix and start with '/': "/index.html",
// "/favicon.svg", "/assets/app-<hash>.js", "/assets/app-<hash>.css". The server strips
// --web.route-prefix from the request path, serves the asset's bytes with its
// Content-Type, Cache-Control and ETag, and adds "Content-Encoding: gzip" when `gzipped`
// (every browser accepts gzip; the few clients that do not can use the HTTP API).
#pragma once

#include <string_view>

namespace vigil::web {

struct UiAsset {
  std::string_view path;          // "/assets/app-3FX2K.js"
  std::string_view content_type;  // "application/javascript; charset=utf-8"
  std::string_view data;          // the file's bytes, gzip-compressed when `gzipped`
  bool gzipped;                   // data is a gzip stream of the file
  std::string_view etag;          // quoted strong validator, changes with the content
  std::string_view cache_control; // "no-cache" for index.html, a year for hashed bundles
};

// The asset at `path` (e.g. "/index.html"), or nullptr when there is none.
const UiAsset* FindUiAsset(std::string_view path);

// True for the UI's page paths ("/graph", "/targets", "/status", "/service-discovery",
// "/alerts", "/rules", "/flags", "/config", "/tsdb-status"): the server answers them with
// the "/index.html" asset, and the page's script picks what to show from the URL.
bool IsUiPage(std::string_view path);

}  // namespace vigil::web
