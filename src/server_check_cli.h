// `vigil check healthy` and `vigil check ready`: promtool 2.48's
// `check healthy|ready`, which ask a running server's /-/healthy or /-/ready.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vigil {

// Runs `vigil check <what> <args>`, `what` being "healthy" or "ready".
// As promtool: GETs `--url` (default http://localhost:9090) plus the
// endpoint within 10 seconds; on 200 writes "  SUCCESS:  <body>" to `err`
// and returns 0, otherwise writes the failure ("check failed: URL=<url>,
// status=503", or why the server could not be reached) and returns 1.
int RunServerStatusCheck(const std::string& what, const std::vector<std::string>& args,
                         std::ostream& out, std::ostream& err);

}  // namespace vigil
