// BasicAuthenticator: checks HTTP basic credentials against a web config's
// bcrypt hashes (libcrypt's crypt_r), as exporter-toolkit does: an unknown
// user is checked against a fixed hash so timing does not reveal which users
// exist, one bcrypt runs at a time, and outcomes are cached (up to 100, a
// random tenth evicted when full) so bcrypt's cost is paid once per
// user/password, not per request. Internal to web/.
#pragma once

#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

namespace vigil::web {

class BasicAuthenticator {
 public:
  // Whether the request's Authorization header value carries a user of
  // `users` (user -> bcrypt hash) with the right password.
  bool Check(const std::map<std::string, std::string>& users, std::string_view authorization);

  // Whether `password` hashes to the bcrypt `hash` (constant-time compare).
  static bool VerifyBcrypt(const std::string& hash, const std::string& password);

 private:
  bool Cached(const std::string& key, bool* ok);
  void Remember(const std::string& key, bool ok);

  std::mutex cache_mu_;
  std::map<std::string, bool> cache_;  // digest of user, hash and password -> outcome
  std::mt19937 rng_{std::random_device{}()};
  std::mutex bcrypt_mu_;
};

// Splits "Basic base64(user:password)"; false when the header is not that.
bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password);

}  // namespace vigil::web
