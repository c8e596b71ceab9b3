#include "web/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>
#include <vector>

namespace vigil::web {
namespace {

constexpr size_t kCacheSize = 100;

// bcrypt of "fakepassword": what an unknown user's password is checked against.
constexpr char kFakeHash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool DecodeBase64(std::string_view in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  std::vector<unsigned char> buffer(in.size() / 4 * 3 + 1);
  const int n = EVP_DecodeBlock(buffer.data(), reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t length = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding's bytes as zeros.
  if (in.ends_with("==")) {
    length -= 2;
  } else if (in.ends_with("=")) {
    length -= 1;
  }
  out->assign(reinterpret_cast<const char*>(buffer.data()), length);
  return true;
}

std::string CacheKey(const std::string& user, const std::string& hash,
                     const std::string& password) {
  std::string material = user;
  material.push_back('\0');
  material += hash;
  material.push_back('\0');
  material += password;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  OPENSSL_cleanse(material.data(), material.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace

bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password) {
  constexpr std::string_view kPrefix = "Basic ";
  if (header.size() < kPrefix.size() || !EqualsIgnoringCase(header.substr(0, 6), kPrefix)) {
    return false;
  }
  std::string decoded;
  if (!DecodeBase64(header.substr(kPrefix.size()), &decoded)) return false;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

bool BasicAuthenticator::VerifyBcrypt(const std::string& hash, const std::string& password) {
  auto data = std::make_unique<crypt_data>();
  const char* result = crypt_r(password.c_str(), hash.c_str(), data.get());
  // crypt_r signals failure with NULL or a string starting with '*'.
  const bool ok = result != nullptr && result[0] != '*' && std::strlen(result) == hash.size() &&
                  CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return ok;
}

bool BasicAuthenticator::Check(const std::map<std::string, std::string>& users,
                               std::string_view authorization) {
  std::string user, password;
  if (!ParseBasicAuthorization(authorization, &user, &password)) return false;
  const auto it = users.find(user);
  const bool known_user = it != users.end();
  const std::string hash = known_user ? it->second : kFakeHash;
  const std::string key = CacheKey(user, hash, password);
  bool ok = false;
  if (!Cached(key, &ok)) {
    {
      std::lock_guard<std::mutex> lock(bcrypt_mu_);  // bcrypt is CPU-heavy: one at a time
      ok = VerifyBcrypt(hash, password);
    }
    ok = ok && known_user;
    Remember(key, ok);
  }
  OPENSSL_cleanse(password.data(), password.size());
  return ok && known_user;
}

bool BasicAuthenticator::Cached(const std::string& key, bool* ok) {
  std::lock_guard<std::mutex> lock(cache_mu_);
  const auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  *ok = it->second;
  return true;
}

void BasicAuthenticator::Remember(const std::string& key, bool ok) {
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_.size() >= kCacheSize) {
    const size_t evict = std::max<size_t>(1, cache_.size() / 10);
    for (size_t i = 0; i < evict && !cache_.empty(); ++i) {
      auto victim = cache_.begin();
      std::advance(victim, std::uniform_int_distribution<size_t>(0, cache_.size() - 1)(rng_));
      cache_.erase(victim);
    }
  }
  cache_[key] = ok;
}

}  // namespace vigil::web
