#pragma once
/// Reads whole topics with librdkafka (no consumer group: every partition
/// from the beginning to its end), and produces raw records, for tests.

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace provisiond::testing {

struct kafka_record {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

inline rd_kafka_t* make_client(rd_kafka_type_t type, const std::string& bootstrap,
                               std::map<std::string, std::string> extra = {}) {
  char err[512];
  auto* conf = rd_kafka_conf_new();
  extra["bootstrap.servers"] = bootstrap;
  extra.emplace("log_level", "3");
  for (auto& [k, v] : extra) rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
  return rd_kafka_new(type, conf, err, sizeof err);
}

/// Every record of `topic` (all partitions, beginning to end).
inline std::vector<kafka_record> read_topic(const std::string& bootstrap, const std::string& topic) {
  std::vector<kafka_record> out;
  auto* rk = make_client(RD_KAFKA_CONSUMER, bootstrap,
                         {{"group.id", "test-reader"}, {"enable.partition.eof", "true"},
                          {"enable.auto.commit", "false"}, {"fetch.message.max.bytes", "4194304"}});
  const rd_kafka_metadata_t* md = nullptr;
  auto* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  int partitions = 0;
  for (int i = 0; i < 50 && partitions == 0; ++i) {
    if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md->topic_cnt == 1 && !md->topics[0].err) partitions = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    if (partitions == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_destroy(rkt);
  auto* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::set<int> done;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (static_cast<int>(done.size()) < partitions && std::chrono::steady_clock::now() < deadline) {
    auto* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      done.insert(m->partition);
    } else if (!m->err) {
      kafka_record r;
      r.topic = topic;
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
          r.headers[name] = std::string(static_cast<const char*>(val), size);
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

/// Produces raw values to `topic` and waits for delivery.
inline bool produce(const std::string& bootstrap, const std::string& topic, const std::vector<std::string>& values,
                    const std::string& key = "k") {
  auto* rk = make_client(RD_KAFKA_PRODUCER, bootstrap, {{"message.max.bytes", "4194304"}});
  for (auto& v : values)
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(key.data(), key.size()),
                      RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_END);
  bool ok = rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_destroy(rk);
  return ok;
}

}  // namespace provisiond::testing
