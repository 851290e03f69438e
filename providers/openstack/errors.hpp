#pragma once
/// OpenStack error responses → retryable or permanent, by one table (the
/// reference's A.7, ../shared/reference/provider-apis.md). Pure: no I/O.

#include <span>
#include <string>

#include "common/result.hpp"

namespace provisiond::providers::openstack {

/// What, besides the HTTP status, a row of the table looks at.
enum class match {
  any,                  ///< the status alone
  neutron_type,         ///< NeutronError.type equals `text`
  message_contains,     ///< the quoted message (what + status + cloud's words) contains `text`
  retry_after_nonzero,  ///< a Retry-After header other than "0"
};

/// One row: the first row whose status and match fit decides.
struct classification_rule {
  int status;
  match when;
  const char* text;   ///< for neutron_type and message_contains
  errc code;          ///< errc::retryable or errc::permanent
  const char* field;  ///< the provider's code, e.g. "quota"
};

/// The rows in order. Statuses no row names: 5xx retryable "server_error",
/// anything else permanent "unexpected".
std::span<const classification_rule> classification_table();

/// One OpenStack error response → retryable or permanent, with the cloud's
/// own message quoted: "<what>: HTTP <status>: <message>".
error classify(int status, const std::string& body, const std::string& retry_after, const std::string& what);

}  // namespace provisiond::providers::openstack
