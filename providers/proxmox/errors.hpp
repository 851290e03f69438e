#pragma once
/// Proxmox VE error responses → what to do, by one table (the reference's
/// "Proxmox: retry or fail", §C of ../shared/reference/provider-apis.md).
/// Pure: no I/O.

#include <span>
#include <string>

#include "common/result.hpp"

namespace provisiond::providers::proxmox {

/// What the caller does about one error.
enum class action {
  retry,           ///< transient: the same call may succeed later
  wait_unlock,     ///< the VM is locked (clone, backup, ...): wait for the lock, then retry
  reconcile,       ///< other 5xx / 59x: a create may have happened; look it up by VMID first
  already_exists,  ///< done, if the VMID is the one recorded for the request
  stop_first,      ///< "is running - destroy failed": stop, wait, delete
  gone,            ///< 404 / "does not exist": success for a delete, permanent otherwise
  reauth,          ///< 401: log in again once (a ticket); a token is permanent
  fail,            ///< permanent
};

/// One row: the first row whose status range and text fit decides.
struct classification_rule {
  int status_min, status_max;
  const char* contains;  ///< in Proxmox's message; "" matches any
  action what;
  const char* field;  ///< the provider's code for the error ("locked", "forbidden", ...)
};

/// The rows in order; a status no row names is permanent "unexpected".
std::span<const classification_rule> classification_table();

/// The message of an error reply: the body's `message` (with each
/// `errors` entry as "param: text"), else the reason phrase Proxmox would
/// have put it in, else the body's start.
std::string pve_message(int status, const std::string& body);

/// The row that decides a reply.
const classification_rule& classify_reply(int status, const std::string& message);

/// The error value for a reply: "<what>: HTTP <status>: <message>",
/// retryable for retry/wait_unlock/reconcile (and a 401), permanent
/// otherwise; `field` is the row's code.
error to_error(int status, const std::string& body, const std::string& what);

}  // namespace provisiond::providers::proxmox
