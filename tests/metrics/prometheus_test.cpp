#include "websession/metrics/prometheus.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <gtest/gtest.h>

#include "websession/memory_session_store.h"
#include "websession/session_id.h"

namespace websession::metrics {
namespace {

MetricSample counter(const char* operation, double value) {
  MetricSample m;
  m.name = std::string("websession_x_total");
  m.help = std::string("x");
  m.labels.emplace_back("operation", operation);
  m.value = value;
  return m;
}

TEST(Prometheus, SamplesBecomeFamiliesByName) {
  const MetricSample a = counter("GetItem", 3);
  const MetricSample b = counter("PutItem", 4);
  MetricSample h;
  h.name = std::string("websession_call_duration_seconds");
  h.help = std::string("latency");
  h.kind = MetricKind::histogram;
  h.value = 0.5;
  h.count = 3;
  h.buckets = {{0.01, 1}, {0.1, 2}};
  auto families = to_families({a, h, b});
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "websession_x_total");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Counter);
  ASSERT_EQ(families[0].metric.size(), 2u);
  EXPECT_EQ(families[0].metric[1].counter.value, 4);
  EXPECT_EQ(families[1].type, prometheus::MetricType::Histogram);
  EXPECT_EQ(families[1].metric[0].histogram.sample_count, 3u);
  const std::string text = prometheus::TextSerializer().Serialize(families);
  EXPECT_NE(text.find(R"(websession_x_total{operation="PutItem"} 4)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(websession_call_duration_seconds_bucket{le="0.1"} 2)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(websession_call_duration_seconds_bucket{le="+Inf"} 3)"), std::string::npos) << text;
}

TEST(Prometheus, AStoreIsCollectedOnEachScrape) {
  auto store = std::make_shared<MemorySessionStore>();
  StoreCollectable collectable(store);
  auto gauge_of = [&] {
    for (const auto& f : collectable.Collect()) {
      if (f.name == "websession_memory_sessions") return f.metric.at(0).gauge.value;
    }
    return -1.0;
  };
  EXPECT_EQ(gauge_of(), 0);
  NewSession s;
  s.data = Fields{{"a", 1}};
  s.created = system_now();
  s.expires = s.absolute_expires = s.created + std::chrono::hours(1);
  ASSERT_TRUE(store->create(generate_session_id(), s));
  EXPECT_EQ(gauge_of(), 1);
}

}  // namespace
}  // namespace websession::metrics
