// The embedded UI: every page's HTML and bundles are findable, gzip-decodable and carry
// the cache headers the server passes on.
#include <zlib.h>

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "web/ui/assets.h"

namespace vigil::web {
namespace {

std::string Gunzip(std::string_view data) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 16 + MAX_WBITS), Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
  }
  inflateEnd(&stream);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

std::string Content(const UiAsset& asset) {
  return asset.gzipped ? Gunzip(asset.data) : std::string(asset.data);
}

// "assets/app-XYZ.js" referenced by index.html -> "/assets/app-XYZ.js".
std::string ReferencedAsset(const std::string& html, std::string_view suffix) {
  const size_t end = html.find(suffix);
  if (end == std::string::npos) return "";
  const size_t start = html.rfind('"', end);
  return "/" + html.substr(start + 1, end + suffix.size() - start - 1);
}

TEST(UiAssets, IndexHtmlIsGzippedAndRevalidated) {
  const UiAsset* index = FindUiAsset("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index->cache_control, "no-cache");
  EXPECT_TRUE(index->gzipped);
  EXPECT_NE(Content(*index).find("<!doctype html>"), std::string::npos);
}

TEST(UiAssets, IndexHtmlReferencesBundlesThatExistWithRelativeUrls) {
  const std::string html = Content(*FindUiAsset("/index.html"));
  EXPECT_NE(html.find("src=\"assets/app-"), std::string::npos) << "must be relative for route prefixes";
  for (std::string_view ext : {".js", ".css"}) {
    const std::string path = ReferencedAsset(html, ext);
    const UiAsset* bundle = FindUiAsset(path);
    ASSERT_NE(bundle, nullptr) << path;
    EXPECT_EQ(bundle->cache_control, "public, max-age=31536000, immutable");
    EXPECT_GT(Content(*bundle).size(), 1000u);
  }
}

TEST(UiAssets, JavaScriptBundleIsSmallerThan250KiBCompressed) {
  const std::string html = Content(*FindUiAsset("/index.html"));
  const UiAsset* js = FindUiAsset(ReferencedAsset(html, ".js"));
  ASSERT_NE(js, nullptr);
  EXPECT_TRUE(js->gzipped);
  EXPECT_LT(js->data.size(), 250u * 1024);
  EXPECT_EQ(js->content_type, "application/javascript; charset=utf-8");
}

TEST(UiAssets, EtagsAreQuotedAndDifferPerFile) {
  const UiAsset* index = FindUiAsset("/index.html");
  const UiAsset* icon = FindUiAsset("/favicon.svg");
  ASSERT_NE(icon, nullptr);
  EXPECT_EQ(index->etag.front(), '"');
  EXPECT_EQ(index->etag.back(), '"');
  EXPECT_NE(index->etag, icon->etag);
}

TEST(UiAssets, UnknownPathsAreNotFound) {
  EXPECT_EQ(FindUiAsset("/nope.js"), nullptr);
  EXPECT_EQ(FindUiAsset("index.html"), nullptr);
  EXPECT_EQ(FindUiAsset(""), nullptr);
}

TEST(UiAssets, PagePathsAreRecognised) {
  for (std::string_view page : {"/graph", "/targets", "/status", "/service-discovery", "/alerts",
                                "/rules", "/flags", "/config", "/tsdb-status", "/remote-write"}) {
    EXPECT_TRUE(IsUiPage(page)) << page;
  }
  EXPECT_FALSE(IsUiPage("/"));
  EXPECT_FALSE(IsUiPage("/api/v1/query"));
  EXPECT_FALSE(IsUiPage("/graph/extra"));
}

}  // namespace
}  // namespace vigil::web
