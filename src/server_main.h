// RunServer: the server mode of the binary: load the config, open storage,
// start scraping and the HTTP server, then serve until SIGTERM/SIGINT.
#pragma once

#include "src/server_flags.h"

namespace vigil {

// Blocks until shutdown; returns the process exit code.
int RunServer(const ServerSettings& settings);

}  // namespace vigil
