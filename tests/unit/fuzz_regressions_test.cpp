// Replays every seed (fuzz/corpus/<target>/) and every input a fuzzer once
// crashed on (fuzz/regressions/<target>/) through the targets' own bodies
// (fuzz/entries.hpp), so the normal build keeps every fixed crash fixed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/checks.hpp"
#include "fuzz/entries.hpp"

namespace fs = std::filesystem;
namespace fz = provisiond::fuzz;

namespace {

using entry = fz::finding (*)(std::string_view);

// The files of fuzz/<kind>/<target>/, sorted (a missing folder: none).
std::vector<fs::path> inputs(const char* kind, const char* target) {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(PROVISIOND_SOURCE_DIR) / "fuzz" / kind / target;
  if (!fs::is_directory(dir)) return out;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.is_regular_file() && f.path().filename().string().front() != '.') out.push_back(f.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Every input of the target: no finding, no exception. Returns how many ran.
std::size_t replay(const char* target, entry run) {
  std::size_t n = 0;
  for (const char* kind : {"corpus", "regressions"})
    for (const auto& p : inputs(kind, target)) {
      SCOPED_TRACE(p.string());
      const auto bytes = read(p);
      fz::finding found;
      EXPECT_NO_THROW(found = run(bytes));
      EXPECT_FALSE(found.has_value()) << *found;
      ++n;
    }
  return n;
}

class FuzzRegressions : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fz::release_backend(); }
};

}  // namespace

TEST_F(FuzzRegressions, HttpRequestInputsPassTheServersParserAndTheRoutes) {
  EXPECT_GE(replay("http_request", fz::http_request_input), 20u) << "the seed corpus is checked in";
}

TEST_F(FuzzRegressions, JsonBodyInputsAreParsedOrRefusedNamingAField) {
  EXPECT_GE(replay("json_bodies", fz::json_body_input), 19u) << "a seed per parser";
}

TEST_F(FuzzRegressions, KafkaCommandInputsAreParsedOrRefusedNamingAField) {
  EXPECT_GE(replay("kafka_command", fz::kafka_command_input), 5u);
}

TEST_F(FuzzRegressions, StoredEventInputsDecodeAndSurviveTheirOwnEncoding) {
  EXPECT_GE(replay("stored_event", fz::stored_event_input), 40u);
}

// The invariants the targets check do find what they are for.
TEST(FuzzChecks, FindA500AFieldless400AndAnErrorBodyWithoutACode) {
  provisiond::gateway::http_response r;
  r.status = 500;
  r.body = R"({"error":{"code":"internal","message":"boom"}})";
  EXPECT_TRUE(fz::check_response(r, "GET /x"));
  r.status = 400;
  r.body = R"({"error":{"code":"invalid_argument","message":"bad"}})";
  EXPECT_TRUE(fz::check_response(r, "GET /x"));
  r.body = R"({"error":{"code":"invalid_argument","message":"bad","field":"tenantId"}})";
  EXPECT_FALSE(fz::check_response(r, "GET /x"));
  r.status = 404;
  r.body = R"({"message":"gone"})";
  EXPECT_TRUE(fz::check_response(r, "GET /x"));
  r.status = 200;
  r.body = "{not json";
  EXPECT_TRUE(fz::check_response(r, "GET /x"));
}

TEST(FuzzChecks, FindARefusalWithoutAFieldOrOfTheWrongKind) {
  using provisiond::errc;
  using provisiond::make_error;
  EXPECT_TRUE(fz::check_refusal(make_error(errc::invalid_argument, "bad"), "p"));
  EXPECT_TRUE(fz::check_refusal(make_error(errc::internal, "bad", "x"), "p"));
  EXPECT_TRUE(fz::check_refusal(make_error(errc::invalid_argument, "", "x"), "p"));
  EXPECT_FALSE(fz::check_refusal(make_error(errc::invalid_argument, "bad", "x"), "p"));
}
