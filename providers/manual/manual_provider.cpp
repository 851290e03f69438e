#include "providers/manual/manual_provider.hpp"

namespace provisiond::providers::manual {

namespace {

using events::step_kind;

class manual_provider final : public provider {
 public:
  std::string kind() const override { return "manual"; }

  result<step_outcome> execute(const step_call& call) override {
    step_outcome out;
    switch (call.step) {
      case step_kind::allocate:
        out.outputs["workOrder"] = "wo-" + call.request_id.str();
        return out;
      case step_kind::configure:
        return out;
      case step_kind::activate:
        out.awaiting_input = true;
        out.outputs["message"] = "vendor-managed cluster " + call.cluster_id.str() + ": waiting for an operator to deliver " +
                                 "host, username and a password or private key (POST /v1/requests/" + call.request_id.str() +
                                 "/complete)";
        return out;
      case step_kind::verify:
        if (!call.inputs.count("host") || call.inputs.at("host").empty())
          return permanent_error("no_host", "the operator delivered no host");
        out.outputs["verifiedBy"] = "operator";
        return out;
    }
    return out;
  }

  result<std::optional<step_outcome>> lookup(const step_call&) override { return std::optional<step_outcome>{}; }

  result<std::vector<std::string>> release(const release_call& call) override {
    std::vector<std::string> ids;
    for (auto& r : call.known) ids.push_back(r.id);
    return ids;
  }

  status set_power(const provisiond::request_id&, const provisiond::cluster_id&, bool) override { return ok(); }

  status check(const cluster_config&) override { return ok(); }
};

}  // namespace

std::shared_ptr<provider> make_manual_provider() { return std::make_shared<manual_provider>(); }

}  // namespace provisiond::providers::manual
