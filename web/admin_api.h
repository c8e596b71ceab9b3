// Admin API (docs/admin_api.md): Prometheus 2.42's /api/v1/admin/tsdb/
// delete_series, clean_tombstones and snapshot, plus Vigil's runtime
// retention (GET|PUT|POST /api/v1/admin/retention) and compaction
// (POST /api/v1/admin/tsdb/compact). Without --web.enable-admin-api every
// one of them answers HTTP 500 "admin APIs disabled", as Prometheus does.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "web/api_context.h"
#include "web/http_router.h"

namespace vigil::web {

// Registers the admin endpoints (enabled or answering "disabled").
void RegisterAdminApi(Router& router, ApiContext& ctx);

// A snapshot directory name as Prometheus makes it: UTC time of the request
// and 16 random hex digits, "20261125T163446Z-6c6eb2ea101d70bb".
std::string SnapshotName(int64_t now_ms);

// The retention in force as runtimeinfo's storageRetention shows it: the
// flags' text, or after a runtime change "45d", "20GiB" or "45d or 20GiB".
std::string EffectiveRetentionText(const ApiContext& ctx);

// Go's strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
Result<bool> ParseGoBool(std::string_view text);

}  // namespace vigil::web
