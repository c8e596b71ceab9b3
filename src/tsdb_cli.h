// `vigil tsdb ...`: offline tools on a data directory (a stopped server's, or
// a snapshot): list, analyze, dump and create-blocks-from openmetrics. A
// directory that a running server holds is refused (its lock file).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vigil {

// Runs `vigil tsdb <args>`; results go to `out`, errors to `err`. Returns the
// process exit code (0 on success, 1 on any failure).
int RunTsdbCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace vigil
