#include <gtest/gtest.h>

#include <string>

#include "events/catalog.hpp"
#include "gateway/commands.hpp"

using namespace provisiond::gateway;
using provisiond::errc;

namespace {

const std::string body = R"({"tenantId":"acme","orderId":"order-1","type":"vps","region":"eu-west-1",
  "resources":{"cpu":2,"memoryGb":4,"storageGb":40}})";

// `json` with its closing brace replaced by `, <extra>}`.
std::string with(std::string json, const std::string& extra) {
  json.pop_back();
  return json + "," + extra + "}";
}

std::string provision(const std::string& extra = "") {
  auto v = with(body, R"("commandId":"c-1","command":"provision")");
  return extra.empty() ? v : with(v, extra);
}

// Then: an invalid_argument naming `field`.
template <class R>
void expect_field(const R& r, const std::string& field) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument) << r.error().message;
  EXPECT_EQ(r.error().field, field) << r.error().message;
}

}  // namespace

TEST(ParseSubmission, TakesAMinimalBodyWithTheDefaults) {
  auto s = parse_submission(body);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->spec.tenant_id, "acme");
  EXPECT_EQ(s->spec.order_id, "order-1");
  EXPECT_EQ(s->spec.type, "vps");
  EXPECT_EQ(s->spec.region, "eu-west-1");
  EXPECT_EQ(s->spec.provider, "simulation") << "the default provider";
  EXPECT_EQ(s->spec.resources.cpu, 2);
  EXPECT_EQ(s->spec.resources.memory_gb, 4);
  EXPECT_EQ(s->spec.resources.storage_gb, 40);
  EXPECT_TRUE(s->spec.metadata.empty());
  EXPECT_TRUE(s->spec.idempotency_key.empty());
  EXPECT_TRUE(s->request_id.empty()) << "no id chosen: the engine assigns one";
}

TEST(ParseSubmission, KeepsTheChosenIdMetadataAndDependencies) {
  auto s = parse_submission(with(body, R"("id":"req-7","metadata":{"team":"web"},"dependsOn":["req-1"])"));
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->request_id, "req-7");
  EXPECT_EQ(s->spec.metadata.at("team"), "web");
  ASSERT_EQ(s->spec.depends_on.size(), 1u);
  EXPECT_EQ(s->spec.depends_on[0], "req-1");
}

TEST(ParseSubmission, NamesTheFieldOfEachMistake) {
  expect_field(parse_submission("{"), "$");
  expect_field(parse_submission("[]"), "$");
  expect_field(parse_submission(with(body, R"("colour":"red")")), "colour");
  expect_field(parse_submission(with(body, R"("id":"-x")")), "id");
  expect_field(parse_submission(R"({"orderId":"o","type":"vps","region":"r","resources":{}})"), "tenantId");
  expect_field(parse_submission(with(body, R"("provider":"aws")")), "provider");
  expect_field(parse_submission(with(body, R"("metadata":{"k":1})")), "metadata.k");
  expect_field(parse_submission(with(body, R"("dependsOn":"req-1")")), "dependsOn");
  auto no_cpu = parse_submission(R"({"tenantId":"acme","orderId":"o","type":"vps","region":"r",
    "resources":{"memoryGb":4,"storageGb":40}})");
  expect_field(no_cpu, "resources.cpu");
  EXPECT_EQ(no_cpu.error().message, "resources.cpu is required");
  auto bad_type = parse_submission(R"({"tenantId":"acme","orderId":"o","type":"vm","region":"r",
    "resources":{"cpu":1,"memoryGb":1,"storageGb":0}})");
  expect_field(bad_type, "type");
  EXPECT_EQ(bad_type.error().message, "expected one of " + provisiond::join_names(provisiond::events::request_types));
}

TEST(ParseSubmission, RefusesTheKafkaCommandsOwnFields) {
  // Given a body with commandId (the Kafka command's field), POST /v1/requests refuses it.
  expect_field(parse_submission(with(body, R"("commandId":"c-1")")), "commandId");
}

TEST(ParseCommand, MapsAProvisionRecordToTheSubmission) {
  auto c = parse_command(provision(R"("id":"req-9")"));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->is_provision());
  EXPECT_EQ(c->command_id, "c-1");
  EXPECT_EQ(c->name, "provision");
  EXPECT_EQ(c->tenant_id, "acme");
  EXPECT_EQ(c->request_id, "req-9") << "the chosen id";
  EXPECT_EQ(c->spec.tenant_id, "acme");
  EXPECT_EQ(c->spec.resources.cpu, 2);
  EXPECT_EQ(dedupe_key(*c), "cmd/c-1");
}

TEST(ParseCommand, ChecksAProvisionLikeAnHttpBody) {
  // The same mistakes give the same errors as POST /v1/requests.
  for (const char* extra : {R"("colour":"red")", R"("provider":"aws")", R"("metadata":[])", R"("dependsOn":[1])"}) {
    auto http = parse_submission(with(body, extra));
    auto kafka = parse_command(provision(extra));
    ASSERT_FALSE(http.has_value()) << extra;
    ASSERT_FALSE(kafka.has_value()) << extra;
    EXPECT_EQ(kafka.error().field, http.error().field) << extra;
    EXPECT_EQ(kafka.error().message, http.error().message) << extra;
  }
}

TEST(ParseCommand, MapsEveryLifecycleActionOfTheCatalog) {
  for (auto action : provisiond::events::lifecycle_actions) {
    auto c = parse_command(R"({"commandId":"c-2","command":")" + std::string(action) +
                           R"(","tenantId":"acme","requestId":"req-1"})");
    ASSERT_TRUE(c.has_value()) << action << ": " << c.error().message;
    EXPECT_FALSE(c->is_provision());
    EXPECT_EQ(c->name, action);
    EXPECT_EQ(c->request_id, "req-1");
    EXPECT_EQ(c->tenant_id, "acme");
    EXPECT_EQ(dedupe_key(*c), "cmd/c-2");
  }
}

TEST(ParseCommand, NamesTheFieldOfEachMistake) {
  auto not_json = parse_command("not json");
  expect_field(not_json, "$");
  EXPECT_EQ(not_json.error().message, "value is not valid JSON");
  expect_field(parse_command("[1]"), "$");
  expect_field(parse_command(R"({"command":"provision","tenantId":"acme"})"), "commandId");
  expect_field(parse_command(R"({"commandId":"a b","command":"provision","tenantId":"acme"})"), "commandId");
  auto unknown = parse_command(R"({"commandId":"c","command":"launch","tenantId":"acme"})");
  expect_field(unknown, "command");
  EXPECT_EQ(unknown.error().message, "expected one of provision, suspend, reactivate, deprovision, retry");
  expect_field(parse_command(R"({"commandId":"c","command":"suspend"})"), "tenantId");
  expect_field(parse_command(R"({"commandId":"c","command":"suspend","tenantId":"-x"})"), "tenantId");
  auto no_target = parse_command(R"({"commandId":"c","command":"retry","tenantId":"acme"})");
  expect_field(no_target, "requestId");
  EXPECT_EQ(no_target.error().message, "requestId is required for retry");
  expect_field(parse_command(R"({"commandId":"c","command":"retry","tenantId":"acme","requestId":"-x"})"), "requestId");
  expect_field(parse_command(R"({"commandId":"c","command":"retry","tenantId":"acme","requestId":"r","cpu":1})"),
               "cpu");
  expect_field(parse_command(R"({"commandId":"c","command":"provision","tenantId":"acme","orderId":"o","type":"vps",
    "region":"r","resources":{"cpu":0,"memoryGb":1,"storageGb":0}})"),
               "resources.cpu");
}

TEST(ParseCommand, RefusesAValueOverOneMebibyte) {
  auto big = parse_command(std::string(max_command_bytes + 1, ' '));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, errc::too_large);
  EXPECT_EQ(big.error().field, "$");
  EXPECT_NE(big.error().message.find("1 MiB"), std::string::npos);
}
