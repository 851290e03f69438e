// No input may make a fuzz target (or the test replaying its inputs) reach
// the network: a webhook URL is resolved by the SSRF guard, so this
// getaddrinfo, which takes the place of libc's in these binaries only,
// resolves numeric addresses and nothing else ("host does not resolve").
// The sanitizers' own getaddrinfo is a weak symbol, so this one wins there
// too; the real one is found with dlsym(RTLD_NEXT).
#include <dlfcn.h>
#include <netdb.h>

namespace {

using getaddrinfo_fn = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

getaddrinfo_fn real_getaddrinfo() {
  static auto fn = reinterpret_cast<getaddrinfo_fn>(dlsym(RTLD_NEXT, "getaddrinfo"));
  return fn;
}

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  addrinfo numeric{};
  if (hints) numeric = *hints;
  numeric.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
  auto fn = real_getaddrinfo();
  if (!fn) return EAI_FAIL;
  return fn(node, service, &numeric, res);
}
