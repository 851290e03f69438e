#pragma once
/// The OpenShift/Kubernetes provider: one tenant-isolated namespace per
/// request over the Kubernetes REST API (../shared/reference/provider-apis.md §B).
///
///   allocate   the Namespace (or an OpenShift ProjectRequest), labelled with
///              request, order and tenant ids; a ResourceQuota from the
///              request's resources; a LimitRange with container defaults
///   configure  a RoleBinding (ClusterRole admin for the tenant's group or
///              user) and a NetworkPolicy (ingress only from the namespace
///              itself and the ingress controller's namespace)
///   activate   the namespace Active and the quota's status populated
///   verify     all five objects read back as specified; a
///              SelfSubjectAccessReview as the tenant (impersonated)
///
/// Every object is written by server-side apply with the field manager
/// `provisiond`, so re-running a step changes nothing that exists. Suspend
/// sets the quota's pods to 0 and adds a deny-all NetworkPolicy; reactivate
/// restores the pod count it recorded and removes the policy.
///
/// Two kinds share this implementation: "openshift" (a ProjectRequest when
/// `projectRequest` is set, a console link when `consoleUrl` is) and
/// "kubernetes" (plain Kubernetes: always a Namespace, never a console link).

#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::kubernetes {

struct settings {
  std::string server;  ///< https://api.cluster:6443
  std::string token;   ///< bearer token (secret)
  std::string ca_file;
  bool insecure = false;          ///< only when set explicitly: a dev cluster
  bool project_request = false;   ///< OpenShift: create through project.openshift.io ProjectRequest
  std::string subject_kind = "Group";
  std::string subject_prefix = "tenant:";  ///< subject name = prefix + tenant id
  std::string ingress_namespace;           ///< also allowed to reach the pods; empty: none
  std::string console_url;                 ///< OpenShift console base, for the endpoint link
  int max_pods = 20;
  int delete_wait_s = 30;  ///< per release call; a longer Terminating phase is retried and reported
  bool verify_access = true;
};

/// Parses the cluster's connection JSON; errors name the field.
result<settings> parse_settings(const std::string& connection_json);

/// Which cluster type a provider instance serves.
enum class distribution {
  openshift,   ///< kind "openshift": OpenShift's ProjectRequest and console when configured
  kubernetes,  ///< kind "kubernetes": a Namespace, never a ProjectRequest; no console endpoint
};

/// The cluster type's name: "openshift" or "kubernetes".
const char* kind_of(distribution d);

/// What `d` accepts beyond parse_settings: plain Kubernetes refuses the
/// OpenShift-only settings (`projectRequest: true`, `consoleUrl`), naming
/// the field. Pure.
status check_distribution(const settings& s, distribution d);

/// The settings a provider of `d` runs with: for plain Kubernetes
/// `project_request` is off and `console_url` empty, whatever a stored
/// connection says (one registered before check_distribution). Pure.
settings for_distribution(settings s, distribution d);

/// "t-<tenant>-<10 hex of a hash of both ids>": a DNS-1123 label of at most
/// 63 characters, deterministic, unique per request, whatever the ids hold.
std::string namespace_name(const std::string& tenant_id, const std::string& request_id);

/// A Kubernetes Status error → retryable or permanent (the reference's B.6).
error classify(int status, const std::string& body, const std::string& what);

/// A provider of kind kind_of(`d`). `connection_of(cluster id)` gives the
/// cluster's connection JSON with its secrets; waits (namespace Active, its
/// deletion) poll against `clk` and sleep through it. Thread-safe.
std::shared_ptr<provider> make_kubernetes_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                   std::shared_ptr<clock> clk, distribution d);

}  // namespace provisiond::providers::kubernetes
