#include "providers/vmware/errors.hpp"

#include <array>
#include <cstring>

#include "providers/provider.hpp"

namespace provisiond::providers::vmware {

namespace {

constexpr auto retryable = errc::retryable;
constexpr auto permanent = errc::permanent;

constexpr std::array<classification_rule, 22> table{{
    {"InvalidLogin", permanent, "auth"},       // wrong user or password: never retried
    {"NotAuthenticated", permanent, "auth"},   // after the one re-login (session)
    {"NoPermission", permanent, "forbidden"},  // the account's role lacks a privilege
    {"InvalidArgument", permanent, "bad_request"},
    {"InvalidRequest", permanent, "bad_request"},
    {"InvalidDeviceSpec", permanent, "bad_request"},
    {"InvalidVmConfig", permanent, "bad_request"},
    {"NotSupported", permanent, "unsupported"},
    {"DuplicateName", permanent, "duplicate_name"},  // adopted first when the VM is ours (provider)
    {"ManagedObjectNotFound", permanent, "not_found"},
    {"InvalidPowerState", permanent, "invalid_state"},  // callers that power treat "already there" as done
    {"InsufficientResourcesFault", permanent, "capacity"},
    {"NoDiskSpace", permanent, "capacity"},
    {"FileAlreadyExists", permanent, "conflict"},
    {"TaskInProgress", retryable, "busy"},  // another operation holds the VM
    {"ResourceInUse", retryable, "busy"},
    {"ConcurrentAccess", retryable, "busy"},
    {"InvalidState", retryable, "busy"},
    {"HostCommunication", retryable, "unavailable"},
    {"HostNotConnected", retryable, "unavailable"},
    {"Timedout", retryable, "timeout"},
    {"RequestCanceled", retryable, "canceled"},
}};

}  // namespace

std::span<const classification_rule> classification_table() {
  return table;
}

error classify(const vim_fault& fault, const std::string& what) {
  auto msg = what + ": " + fault.describe();
  for (const auto& r : table)
    if (fault.type == r.fault) return make_error(r.code, msg, r.field);
  return permanent_error("vim_fault", msg);
}

error classify_http(int status, const std::string& body, const std::string& what) {
  auto msg = what + ": HTTP " + std::to_string(status) + ": " + body.substr(0, 300);
  if (status >= 500 || status == 429) return retryable_error("server_error", msg);
  return permanent_error("unexpected", msg);
}

}  // namespace provisiond::providers::vmware
