// Prometheus exposition of websession's metrics through Debian's prometheus-cpp (target
// websession::prometheus, built when prometheus-cpp is installed): a store's counters, gauges and
// latency histograms (a DynamoDB store includes its client's) as a prometheus::Collectable, so that
// they join an application's own registry instead of hand-written exposition text.
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   auto store_metrics = std::make_shared<websession::metrics::StoreCollectable>(store);
//   exposer.RegisterCollectable(registry);
//   exposer.RegisterCollectable(store_metrics);   // or: serialize both with prometheus::TextSerializer
#pragma once

#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "websession/session_store.h"

namespace websession::metrics {

/// The samples as metric families, one per name, in the order names first appear.
std::vector<prometheus::MetricFamily> to_families(const std::vector<MetricSample>& samples);

/// Collects a store's metrics on each scrape. Thread-safe.
class StoreCollectable final : public prometheus::Collectable {
 public:
  explicit StoreCollectable(std::shared_ptr<const SessionStore> store);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<const SessionStore> store_;
};

}  // namespace websession::metrics
