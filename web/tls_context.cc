#include "web/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace vigil::web {
namespace {

struct FreeCtx {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Go's "open PATH: no such file or directory" when `path` cannot be read.
Status CheckReadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f != nullptr) {
    std::fclose(f);
    return Status::OK();
  }
  std::string reason = std::strerror(errno);
  if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
  return Status::IOError("open " + path + ": " + reason);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The PEM mistakes Go's tls.X509KeyPair names, with its words.
Status CheckPemBlocks(const TlsServerConfig& c) {
  if (ReadAll(c.cert_file).find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status::InvalidArgument("tls: failed to find any PEM data in certificate input");
  }
  const std::string key = ReadAll(c.key_file);
  if (key.find("PRIVATE KEY-----") != std::string::npos) return Status::OK();
  if (key.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    return Status::InvalidArgument(
        "tls: found a certificate rather than a key in the PEM for the private key");
  }
  return Status::InvalidArgument("tls: failed to find any PEM data in key input");
}

Status LoadKeyPair(SSL_CTX* ctx, const TlsServerConfig& c) {
  Status st = CheckReadable(c.cert_file);
  if (st.ok()) st = CheckReadable(c.key_file);
  if (st.ok()) st = CheckPemBlocks(c);
  if (st.ok() && SSL_CTX_use_certificate_chain_file(ctx, c.cert_file.c_str()) != 1) {
    st = Status::InvalidArgument(OpenSslError());
  }
  if (st.ok() && SSL_CTX_use_PrivateKey_file(ctx, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    st = Status::InvalidArgument(OpenSslError());
  }
  if (st.ok() && SSL_CTX_check_private_key(ctx) != 1) {
    st = Status::InvalidArgument("tls: private key does not match public key");
  }
  if (st.ok()) return st;
  return Status::InvalidArgument("failed to load X509KeyPair: " + st.message());
}

Status SetCiphers(SSL_CTX* ctx, const TlsServerConfig& c) {
  // Go applies cipher_suites to TLS 1.2 and below only; TLS 1.3 suites are fixed.
  std::string list;
  for (const auto& name : c.cipher_suites) {
    const char* openssl_name = OPENSSL_cipher_name(name.c_str());
    if (openssl_name == nullptr || std::strcmp(openssl_name, "(NONE)") == 0) continue;
    if (name.starts_with("TLS_AES_") || name.starts_with("TLS_CHACHA20_")) continue;
    if (!list.empty()) list += ':';
    list += openssl_name;
  }
  if (c.min_version < TLS1_2_VERSION) list = (list.empty() ? "DEFAULT" : list) + ":@SECLEVEL=0";
  if (list.empty()) return Status::OK();
  if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1) {
    return Status::InvalidArgument("cipher_suites: " + OpenSslError());
  }
  return Status::OK();
}

Status SetCurves(SSL_CTX* ctx, const TlsServerConfig& c) {
  static const std::map<std::string, std::string> kGroups = {
      {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"}, {"X25519", "X25519"}};
  std::string list;
  for (const auto& name : c.curve_preferences) {
    if (!list.empty()) list += ':';
    list += kGroups.at(name);
  }
  if (list.empty()) return Status::OK();
  if (SSL_CTX_set1_groups_list(ctx, list.c_str()) != 1) {
    return Status::InvalidArgument("curve_preferences: " + OpenSslError());
  }
  return Status::OK();
}

// A certificate is asked for but any one (or none) is accepted: Go's
// RequestClientCert and RequireAnyClientCert do not verify it.
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

Status SetClientAuth(SSL_CTX* ctx, const TlsServerConfig& c) {
  if (!c.client_ca_file.empty()) {
    if (Status st = CheckReadable(c.client_ca_file); !st.ok()) return st;
  }
  const std::string& type = c.client_auth_type;
  int mode = SSL_VERIFY_NONE;
  SSL_verify_cb callback = nullptr;
  if (type == "RequestClientCert") {
    mode = SSL_VERIFY_PEER;
    callback = AcceptAnyCertificate;
  } else if (type == "RequireAnyClientCert" || type == "RequireClientCert") {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    callback = AcceptAnyCertificate;
  } else if (type == "VerifyClientCertIfGiven") {
    mode = SSL_VERIFY_PEER;
  } else if (type == "RequireAndVerifyClientCert") {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  } else if (!type.empty() && type != "NoClientCert") {
    return Status::InvalidArgument("Invalid ClientAuth: " + type);
  }
  if (!c.client_ca_file.empty() && mode == SSL_VERIFY_NONE) {
    return Status::InvalidArgument("Client CA's have been configured without a Client Auth Policy");
  }
  if (!c.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, c.client_ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("client_ca_file " + c.client_ca_file + ": " + OpenSslError());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(c.client_ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(ctx, names);
  } else if (mode != SSL_VERIFY_NONE) {
    SSL_CTX_set_default_verify_paths(ctx);  // Go verifies against the system roots
  }
  SSL_CTX_set_verify(ctx, mode, callback);
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<SSL_CTX>> NewServerTlsContext(const TlsServerConfig& c) {
  if (c.cert_file.empty()) return Status::InvalidArgument("missing cert_file");
  if (c.key_file.empty()) return Status::InvalidArgument("missing key_file");
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), FreeCtx());
  if (!ctx) return Status::Internal("SSL_CTX_new: " + OpenSslError());
  if (Status st = LoadKeyPair(ctx.get(), c); !st.ok()) return st;
  SSL_CTX_set_min_proto_version(ctx.get(), c.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), c.max_version);
  if (c.prefer_server_cipher_suites)
    SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Each connection gets a fresh context (rotated files apply), so resumption
  // could not work anyway: no session tickets.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  static const unsigned char kSessionContext[] = "vigil";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (Status st = SetCiphers(ctx.get(), c); !st.ok()) return st;
  if (Status st = SetCurves(ctx.get(), c); !st.ok()) return st;
  if (Status st = SetClientAuth(ctx.get(), c); !st.ok()) return st;
  return ctx;
}

Status CheckClientAllowedSans(SSL* ssl, const TlsServerConfig& c) {
  if (!c.has_client_allowed_sans) return Status::OK();
  X509* cert = SSL_get1_peer_certificate(ssl);
  std::vector<std::string> sans;
  if (cert != nullptr) {
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS || name->type == GEN_EMAIL || name->type == GEN_URI) {
        const ASN1_STRING* s = name->d.ia5;
        sans.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                          static_cast<size_t>(ASN1_STRING_length(s)));
      } else if (name->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = "";
        const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        if (inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text) != nullptr) {
          sans.emplace_back(text);
        }
      }
    }
    GENERAL_NAMES_free(names);
    X509_free(cert);
  }
  for (const auto& san : sans) {
    if (std::find(c.client_allowed_sans.begin(), c.client_allowed_sans.end(), san) !=
        c.client_allowed_sans.end()) {
      return Status::OK();
    }
  }
  std::string allowed;
  for (const auto& s : c.client_allowed_sans) allowed += (allowed.empty() ? "" : " ") + s;
  return Status::InvalidArgument("could not find allowed SANs in client cert, found: [" + allowed +
                                 "]");
}

}  // namespace vigil::web
