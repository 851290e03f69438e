#include "auth/authenticator.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "auth/crypto.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace provisiond::auth {

namespace {

constexpr std::size_t max_token = 8 * 1024;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The bootstrap key from `path`, or a new one written there (0600, never
// overwritten: O_EXCL, so two instances starting at once agree on one).
result<std::string> bootstrap_key(const std::string& path, std::string* created) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
      struct stat st{};
      ::fstat(fd, &st);
      char buf[512];
      auto n = ::read(fd, buf, sizeof buf);
      ::close(fd);
      if ((st.st_mode & 077) != 0)
        return make_error(errc::invalid_argument, "the admin key file " + path + " must be readable by its owner only (chmod 600)",
                          "auth.adminKeyFile");
      auto key = trimmed(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0));
      if (!api_key_store::looks_like_key(key) || key.size() < 40)
        return make_error(errc::invalid_argument, "the admin key file " + path + " does not hold a pvd_ key",
                          "auth.adminKeyFile");
      return key;
    }
    if (errno != ENOENT)
      return make_error(errc::unavailable, "cannot read " + path + ": " + std::strerror(errno), "auth.adminKeyFile");
    auto id = random_token(9);
    auto secret = random_token(32);
    if (!id || !secret) return make_error(errc::internal, "no randomness for the admin key");
    std::string key = "pvd_" + *id + "_" + *secret;
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;  // another instance was first: read its key
      return make_error(errc::unavailable, "cannot create " + path + ": " + std::strerror(errno), "auth.adminKeyFile");
    }
    std::string text = key + "\n";
    bool good = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!good) {
      ::unlink(path.c_str());
      return make_error(errc::unavailable, "cannot write " + path, "auth.adminKeyFile");
    }
    if (created) *created = key;
    return key;
  }
  return make_error(errc::unavailable, "cannot read or create " + path, "auth.adminKeyFile");
}

outcome refused(std::string reason, std::string message) { return outcome{std::nullopt, std::move(reason), std::move(message)}; }

std::string clip(const std::string& s) { return s.size() > 256 ? s.substr(0, 256) + "..." : s; }

}  // namespace

authenticator::authenticator(settings s, std::shared_ptr<api_key_store> keys, std::shared_ptr<clock> time,
                             std::function<result<std::string>(const std::string&)> fetch)
    : settings_(std::move(s)), keys_(std::move(keys)), clock_(std::move(time)) {
  if (settings_.jwt) jwks_ = std::make_unique<jwks_source>(*settings_.jwt, clock_, std::move(fetch));
}

result<std::unique_ptr<authenticator>> authenticator::make(
    settings s, const std::string& data_dir, std::shared_ptr<api_key_store> keys, std::shared_ptr<clock> time,
    std::function<result<std::string>(const std::string&)> fetch, std::string* created) {
  std::string bootstrap;
  if (s.bootstrap_admin_key) {
    if (s.admin_key_file.empty()) s.admin_key_file = data_dir + "/admin-api-key";
    auto key = bootstrap_key(s.admin_key_file, created);
    if (!key) return key.error();
    bootstrap = sha256_hex(*key);
  }
  std::unique_ptr<authenticator> a(new authenticator(std::move(s), std::move(keys), std::move(time), std::move(fetch)));
  a->bootstrap_sha256_ = std::move(bootstrap);
  if (a->jwks_)
    if (auto first = a->jwks_->keys(); !first)  // fetched now so a wrong URL shows at start, not at the first call
      log::warn("the identity provider's JWKS is not available yet: " + first.error().message);
  return a;
}

outcome authenticator::authenticate(const std::string& authorization, const std::string& peer_subject) {
  if (authorization.empty()) {
    if (!peer_subject.empty())
      if (auto it = settings_.client_certificates.find(peer_subject); it != settings_.client_certificates.end())
        return outcome{principal{it->second.r, it->second.tenant, it->second.r == role::tenant_readonly,
                                 "cert:" + clip(peer_subject)},
                       {}, {}};
    return outcome{};
  }
  if (authorization.size() < 7 || strncasecmp(authorization.c_str(), "Bearer ", 7) != 0)
    return refused("malformed", "expected Authorization: Bearer <API key or token>");
  std::string token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ') token.erase(0, 1);
  if (token.empty() || token.size() > max_token) return refused("malformed", "expected a token of 1 to 8192 bytes");
  if (api_key_store::looks_like_key(token)) {
    if (!bootstrap_sha256_.empty() && constant_time_equal(sha256_hex(token), bootstrap_sha256_))
      return outcome{principal{role::admin, {}, false, "key:bootstrap"}, {}, {}};
    if (auto p = keys_->verify(token)) return outcome{std::move(*p), {}, {}};
    return refused("unknown_key", "unknown or revoked API key");
  }
  if (!jwks_) return refused("malformed", "not an API key, and no identity provider is configured for tokens");
  auto v = verify_jwt(token, *jwks_, *settings_.jwt, clock_->now());
  if (auto* p = std::get_if<principal>(&v)) return outcome{std::move(*p), {}, {}};
  auto& why = std::get<token_refusal>(v);
  return refused(why.reason, why.message);
}

void audit_denied(const std::string& method, const std::string& path, int status, const std::string& reason,
                  const std::string& subject) {
  metrics::registry::global()
      .get_counter("provisiond_auth_denied_total", "HTTP calls refused by authentication or authorization, by reason",
                   {{"reason", reason}})
      .inc();
  log::audit(log::level::warn, "access denied",
             log::fields{}
                 .with("audit", "access_denied")
                 .with("method", clip(method))
                 .with("path", clip(path))
                 .with("status", std::int64_t{status})
                 .with("reason", reason)
                 .with("principal", subject.empty() ? "anonymous" : subject));
}

void audit_admin_change(const std::string& method, const std::string& path, int status, const std::string& subject) {
  metrics::registry::global()
      .get_counter("provisiond_admin_changes_total", "Admin writes that succeeded (clusters, quotas, rules, keys, ...)")
      .inc();
  log::audit(log::level::info, "admin change",
             log::fields{}
                 .with("audit", "admin_change")
                 .with("method", clip(method))
                 .with("path", clip(path))
                 .with("status", std::int64_t{status})
                 .with("principal", subject));
}

}  // namespace provisiond::auth
