// `vigil admin ...`: operator commands that talk to a running server's admin
// HTTP API (see docs/admin_api.md).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vigil {

// Runs `vigil admin <args>`; writes results to `out`, errors to `err`.
// Returns the process exit code (0 on success, 1 on any failure).
int RunAdminCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vigil
