// Prints, as one JSON object, the Kafka topics provisiond produces to and
// consumes from (default configuration, no prefix) and the values its
// commands and events carry, all taken from the code, for
// check_asyncapi.mjs to compare with docs/asyncapi.yaml.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cluster.hpp"
#include "common/settings.hpp"
#include "events/catalog.hpp"
#include "events/kafka/kafka.hpp"
#include "events/kafka/secret_replica.hpp"
#include "gateway/commands.hpp"

namespace kafka = provisiond::events::kafka;
namespace ev = provisiond::events;

template <class Names>
nlohmann::json names(const Names& n) {
  return nlohmann::json(std::vector<std::string>(n.begin(), n.end()));
}

int main() {
  const provisiond::kafka_config cfg;
  // Produced: the outbox relay (the lifecycle topics and the journal), the
  // command consumer (dead letters), the secret replica (sealed secrets).
  nlohmann::json produced = kafka::event_topics(cfg);
  produced.push_back(kafka::dlq_topic(cfg));
  produced.push_back(kafka::secrets_topic(cfg));
  // Consumed: the command consumer, and scaled out the journal replica (the
  // changelog) and the secret replica.
  nlohmann::json consumed = {cfg.commands_topic, kafka::journal_topic(cfg), kafka::secrets_topic(cfg)};
  nlohmann::json out{{"produced", produced},
                     {"consumed", consumed},
                     {"lifecycleTopics", names(kafka::lifecycle_topics)},
                     {"journalTopic", kafka::journal_topic(cfg)},
                     {"commandsTopic", cfg.commands_topic},
                     {"deadLetterTopic", kafka::dlq_topic(cfg)},
                     {"secretsTopic", kafka::secrets_topic(cfg)},
                     {"commands", names(provisiond::gateway::command_names)},
                     {"states", names(ev::lifecycle_names)},
                     {"steps", names(ev::step_names)},
                     {"requestTypes", names(ev::request_types)},
                     {"providers", names(provisiond::cluster_types)}};
  std::cout << out.dump() << "\n";
  return 0;
}
