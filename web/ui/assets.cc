#include "web/ui/assets.h"

#include <algorithm>
#include <array>

#include "web/ui/asset_table.h"

namespace vigil::web {
namespace {

// Must match the PAGES table in src/main.js.
constexpr std::array<std::string_view, 10> kPages = {
    "/graph", "/targets", "/status", "/service-discovery", "/alerts",
    "/rules", "/flags",   "/config", "/tsdb-status",       "/remote-write",
};

}  // namespace

const UiAsset* FindUiAsset(std::string_view path) {
  const auto assets = EmbeddedUiAssets();
  const auto it = std::find_if(assets.begin(), assets.end(),
                               [path](const UiAsset& asset) { return asset.path == path; });
  return it == assets.end() ? nullptr : &*it;
}

bool IsUiPage(std::string_view path) {
  return std::find(kPages.begin(), kPages.end(), path) != kPages.end();
}

}  // namespace vigil::web
