#pragma once
/// vim25 faults → retryable or permanent, by one table (the reference's
/// vSphere rows, ../shared/reference/provider-apis.md, in SOAP's fault
/// names). Pure: no I/O.

#include <span>
#include <string>

#include "common/result.hpp"
#include "providers/vmware/replies.hpp"

namespace provisiond::providers::vmware {

/// One row: a fault type, its class and the provider's code.
struct classification_rule {
  const char* fault;  ///< vim25 fault type, e.g. "DuplicateName"
  errc code;          ///< errc::retryable or errc::permanent
  const char* field;  ///< the provider's code, e.g. "duplicate_name"
};

/// The rows. A fault no row names is permanent "vim_fault"; a reply that is
/// no SOAP at all is judged by its HTTP status (5xx retryable).
std::span<const classification_rule> classification_table();

/// A fault → the error, with vCenter's words quoted: "<what>: <Type>: <message> (fields)".
/// NotAuthenticated arrives here only after the one re-login failed.
error classify(const vim_fault& fault, const std::string& what);

/// A reply without a fault that is not what was expected (HTTP status, body start).
error classify_http(int status, const std::string& body, const std::string& what);

}  // namespace provisiond::providers::vmware
