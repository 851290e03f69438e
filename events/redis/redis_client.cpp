#include "events/redis/redis_client.hpp"

#include <hiredis.h>
#include <openssl/sha.h>

#include <csignal>
#include <cstdio>

namespace provisiond::events::redis {

namespace {

reply decode(const redisReply* r) {
  reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type = reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = reply::kind::array;
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(decode(r->element[i]));
      break;
    default: break;  // nil
  }
  return out;
}

}  // namespace

std::string script_sha(const std::string& script) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(script.data()), script.size(), digest);
  char hex[SHA_DIGEST_LENGTH * 2 + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

result<std::unique_ptr<client>> client::connect(const std::string& url, std::chrono::milliseconds timeout) {
  if (url.rfind("redis://", 0) != 0 && url.rfind("unix://", 0) != 0)
    return make_error(errc::invalid_argument, "expected redis://HOST:PORT or unix:///PATH", "redis.url");
  // A write to a connection Redis closed must be an error, not a SIGPIPE
  // that kills the process.
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<client> c{new client(url, timeout)};
  if (auto st = c->reconnect(); !st) return st.error();
  return c;
}

client::~client() {
  if (ctx_) redisFree(ctx_);
}

status client::reconnect() {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  timeval tv{static_cast<time_t>(timeout_.count() / 1000), static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
  if (url_.rfind("unix://", 0) == 0) {
    ctx_ = redisConnectUnixWithTimeout(url_.substr(7).c_str(), tv);
  } else {
    auto hostport = url_.substr(8);
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos)
      return make_error(errc::invalid_argument, "expected redis://HOST:PORT", "redis.url");
    ctx_ = redisConnectWithTimeout(hostport.substr(0, colon).c_str(), std::stoi(hostport.substr(colon + 1)), tv);
  }
  if (!ctx_ || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    return make_error(errc::unavailable, "cannot connect to Redis: " + why, "redis");
  }
  redisSetTimeout(ctx_, tv);
  return ok();
}

result<reply> client::command_locked(const std::vector<std::string>& argv) {
  if (!ctx_)
    if (auto st = reconnect(); !st) return st.error();
  std::vector<const char*> args;
  std::vector<std::size_t> lens;
  for (auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto send = [&] {
    return static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data()));
  };
  auto* raw = send();
  if (!raw) {
    // The connection broke (Redis restarted, say): one new connection and
    // one more try. Every command this adapter sends is safe to repeat.
    if (auto st = reconnect(); !st) return st.error();
    raw = send();
  }
  if (!raw) {
    std::string why = ctx_ ? ctx_->errstr : "not connected";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;  // reconnect on the next call
    return make_error(errc::unavailable, "Redis: " + why, "redis");
  }
  std::unique_ptr<redisReply, void (*)(void*)> r{raw, freeReplyObject};
  if (r->type == REDIS_REPLY_ERROR) return make_error(errc::internal, std::string(r->str, r->len), "redis");
  return decode(r.get());
}

result<reply> client::command(const std::vector<std::string>& argv) {
  std::lock_guard lock{mutex_};
  return command_locked(argv);
}

result<reply> client::eval(const std::string& script, const std::vector<std::string>& keys,
                           const std::vector<std::string>& args) {
  std::vector<std::string> argv{"EVALSHA", script_sha(script), std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  std::lock_guard lock{mutex_};
  auto r = command_locked(argv);
  if (!r && r.error().message.rfind("NOSCRIPT", 0) == 0) {
    if (auto loaded = command_locked({"SCRIPT", "LOAD", script}); !loaded) return loaded.error();
    r = command_locked(argv);
  }
  return r;
}

}  // namespace provisiond::events::redis
