// The command consumer against librdkafka's mock cluster, with handlers
// that stand in for the intake.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/kafka/command_consumer.hpp"
#include "events/kafka/kafka.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/temp_dir.hpp"

using namespace provisiond;
using namespace provisiond::events::kafka;
using namespace std::chrono_literals;

namespace {

// What a handler saw: each call's value, offset and the consumer's state then.
struct seen {
  std::string value;
  std::int32_t partition;
  std::int64_t offset;
  consumer_state state;
  std::string attempt_note;  ///< the attempt log's line for the partition during the call
};

struct CommandConsumer : ::testing::Test {
  provisiond::testing::temp_dir dir;
  kafka_config cfg;
  std::unique_ptr<mock_cluster> kafka;
  std::mutex mutex;
  std::vector<seen> calls;

  void SetUp() override {
    auto started = mock_cluster::start(1, {cfg.commands_topic, dlq_topic(cfg)});
    ASSERT_TRUE(started.has_value()) << started.error().message;
    kafka = std::move(*started);
  }

  // A consumer whose handler records each call and answers with `decide`.
  std::unique_ptr<command_consumer> consumer(std::function<verdict(const consumed_message&, int call)> decide) {
    auto c = std::make_unique<command_consumer>(
        kafka->bootstrap(), cfg, dir / "attempts", [this, decide](const consumed_message& m) {
          std::string note;
          std::getline(std::ifstream(dir / ("attempts/partition-" + std::to_string(m.partition))), note);
          std::lock_guard lock(mutex);
          calls.push_back({std::string(m.value), m.partition, m.offset, current_->state(), note});
          return decide(m, static_cast<int>(calls.size()));
        });
    current_ = c.get();  // the handler runs only after start()
    return c;
  }

  std::size_t call_count() {
    std::lock_guard lock(mutex);
    return calls.size();
  }

  bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout = 30s) {
    for (auto deadline = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < deadline;) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

  command_consumer* current_ = nullptr;
};

}  // namespace

TEST_F(CommandConsumer, CommitsWhatTheHandlerTookSoItIsNotDeliveredAgain) {
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), cfg.commands_topic, {"a", "b"}));
  {
    auto c = consumer([](const consumed_message&, int) { return verdict::commit(); });
    ASSERT_TRUE(c->start().has_value());
    ASSERT_TRUE(wait_until([&] { return call_count() == 2; }));
    EXPECT_TRUE(c->consuming());
    EXPECT_EQ(c->state(), consumer_state::consuming);
    c->stop();
    EXPECT_FALSE(c->consuming());
    EXPECT_EQ(c->state(), consumer_state::stopped);
  }
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), cfg.commands_topic, {"c"}));
  auto again = consumer([](const consumed_message&, int) { return verdict::commit(); });
  ASSERT_TRUE(again->start().has_value());
  ASSERT_TRUE(wait_until([&] { return call_count() == 3; }));
  std::this_thread::sleep_for(500ms);
  std::lock_guard lock(mutex);
  ASSERT_EQ(calls.size(), 3u) << "a and b were committed";
  EXPECT_EQ(calls[2].value, "c");
  EXPECT_EQ(calls[0].attempt_note, std::to_string(calls[0].offset) + " 1") << "noted while in hand";
}

TEST_F(CommandConsumer, DeadLettersTheOriginalBytesWithTheReasonHeaders) {
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), cfg.commands_topic, {"poison"}, "order-7"));
  auto c = consumer([](const consumed_message&, int) {
    return verdict::dead_letter(make_error(errc::invalid_argument, "expected a JSON object", "$"));
  });
  ASSERT_TRUE(c->start().has_value());
  ASSERT_TRUE(wait_until([&] { return c->dead_lettered() == 1; }));
  auto dlq = provisiond::testing::read_topic(kafka->bootstrap(), dlq_topic(cfg));
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].key, "order-7");
  EXPECT_EQ(dlq[0].value, "poison");
  EXPECT_EQ(dlq[0].headers["provisiond-dlq-reason"], "$: expected a JSON object");
  EXPECT_EQ(dlq[0].headers["provisiond-dlq-code"], "invalid_argument");
  std::lock_guard lock(mutex);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(dlq[0].headers["provisiond-dlq-origin"],
            cfg.commands_topic + "/" + std::to_string(calls[0].partition) + "/" + std::to_string(calls[0].offset));
  EXPECT_TRUE(c->consuming());
}

TEST_F(CommandConsumer, RetriesTheSameMessageNeverTheNextAndIsNotConsumingMeanwhile) {
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), cfg.commands_topic, {"first", "second"}));
  auto c = consumer([](const consumed_message& m, int call) {
    if (m.value == "first" && call < 3) return verdict::retry(make_error(errc::unavailable, "engine busy"));
    return verdict::commit();
  });
  ASSERT_TRUE(c->start().has_value());
  ASSERT_TRUE(wait_until([&] { return call_count() == 4; }));
  std::lock_guard lock(mutex);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].value, "first");
  EXPECT_EQ(calls[1].value, "first");
  EXPECT_EQ(calls[2].value, "first");
  EXPECT_EQ(calls[3].value, "second");
  EXPECT_EQ(calls[1].offset, calls[0].offset);
  EXPECT_EQ(calls[0].state, consumer_state::consuming);
  EXPECT_EQ(calls[1].state, consumer_state::retrying) << "readyz 503 meanwhile";
  EXPECT_EQ(calls[2].state, consumer_state::retrying);
  EXPECT_EQ(calls[3].state, consumer_state::consuming);
  EXPECT_EQ(calls[2].attempt_note, std::to_string(calls[0].offset) + " 1") << "one handling, however many tries";
  EXPECT_TRUE(c->consuming());
  EXPECT_EQ(c->dead_lettered(), 0u);
}

TEST_F(CommandConsumer, LeavesAMessageInHandUncommittedWhenStopped) {
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), cfg.commands_topic, {"stuck"}));
  {
    auto c = consumer([](const consumed_message&, int) { return verdict::retry(make_error(errc::unavailable, "x")); });
    ASSERT_TRUE(c->start().has_value());
    ASSERT_TRUE(wait_until([&] { return call_count() >= 2; }));
    EXPECT_FALSE(c->consuming());
    c->stop();
  }
  auto before = call_count();
  auto again = consumer([](const consumed_message&, int) { return verdict::commit(); });
  ASSERT_TRUE(again->start().has_value());
  ASSERT_TRUE(wait_until([&] { return call_count() > before; }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(calls.back().value, "stuck") << "redelivered, not skipped";
  EXPECT_EQ(calls.back().attempt_note, std::to_string(calls.back().offset) + " 2") << "the second handling of it";
}

TEST_F(CommandConsumer, DeadLettersAMessageThatWasInHandThreeTimesWhenTheProcessDied) {
  // Given the attempt log of a process that died 3 times at offset 0 of any partition,
  std::filesystem::create_directories(dir / "attempts");
  for (int p = 0; p < 4; ++p) std::ofstream(dir / ("attempts/partition-" + std::to_string(p))) << "0 3\n";
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), cfg.commands_topic, {"crash"}));
  auto c = consumer([](const consumed_message&, int) { return verdict::commit(); });
  ASSERT_TRUE(c->start().has_value());
  // then it goes to the DLQ without the handler seeing it.
  ASSERT_TRUE(wait_until([&] { return c->dead_lettered() == 1; }));
  EXPECT_EQ(call_count(), 0u);
  auto dlq = provisiond::testing::read_topic(kafka->bootstrap(), dlq_topic(cfg));
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].value, "crash");
  EXPECT_EQ(dlq[0].headers["provisiond-dlq-reason"], "$: provisiond stopped 3 times while handling this command");
  EXPECT_EQ(dlq[0].headers["provisiond-dlq-code"], "invalid_argument");
}
