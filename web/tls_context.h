// The OpenSSL server context of a web config's tls_server_config, with Go's
// crypto/tls semantics for client_auth_type, versions, ciphers and curves.
// Internal to web/.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "base/status.h"
#include "web/web_config.h"

namespace vigil::web {

// Loads the certificate, key and client CAs now; errors read as exporter-toolkit's.
Result<std::shared_ptr<SSL_CTX>> NewServerTlsContext(const TlsServerConfig& config);

// After a handshake: whether the peer's certificate carries one of
// client_allowed_sans (always OK when that list is not set).
Status CheckClientAllowedSans(SSL* ssl, const TlsServerConfig& config);

}  // namespace vigil::web
