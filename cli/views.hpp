#pragma once
/// The human (-o table) views of the API's answers. Each takes the JSON as
/// the API returned it and tolerates missing fields (an older or newer
/// provisiond): a field that is absent is shown empty, never a crash.

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

namespace provisiond::cli {

using nlohmann::json;

/// A value as text: a string as it is, null or absent as "", anything else compact JSON.
std::string text_of(const json& v);
/// obj[key] as text ("" if obj is not an object or has no such key).
std::string field_text(const json& obj, const char* key);

/// A one-line summary of an event's data ("allocate attempt 1", the reason of a failure, ...).
std::string event_detail(const std::string& type, const json& data);

void print_request(std::ostream& out, const json& r);          ///< get, history
void print_request_list(std::ostream& out, const json& page);  ///< list ({items, nextCursor})
void print_events(std::ostream& out, const json& events);      ///< events (an array)
void print_id_state(std::ostream& out, const json& j);         ///< submit, lifecycle actions, decisions
void print_approvals(std::ostream& out, const json& page);
void print_manual(std::ostream& out, const json& page);
void print_clusters(std::ostream& out, const json& page);
void print_cluster(std::ostream& out, const json& c);
void print_cluster_test(std::ostream& out, const json& t);
void print_quota(std::ostream& out, const json& q);
void print_usage(std::ostream& out, const json& u);

}  // namespace provisiond::cli
