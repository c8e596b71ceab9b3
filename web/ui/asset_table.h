// Internal to web_ui: the table of embedded files, defined in the .cc that build.mjs
// generates at build time.
#pragma once

#include <span>

#include "web/ui/assets.h"

namespace vigil::web {

// Every embedded asset, in the order build.mjs wrote them.
std::span<const UiAsset> EmbeddedUiAssets();

}  // namespace vigil::web
