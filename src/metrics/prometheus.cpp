#include "websession/metrics/prometheus.h"

#include <map>
#include <string>

namespace websession::metrics {
namespace {

prometheus::MetricType type_of(MetricKind kind) {
  switch (kind) {
    case MetricKind::counter: return prometheus::MetricType::Counter;
    case MetricKind::gauge: return prometheus::MetricType::Gauge;
    case MetricKind::histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

prometheus::ClientMetric to_metric(const MetricSample& s) {
  prometheus::ClientMetric m;
  for (const auto& [name, value] : s.labels) m.label.push_back(prometheus::ClientMetric::Label{name, value});
  switch (s.kind) {
    case MetricKind::counter: m.counter.value = s.value; break;
    case MetricKind::gauge: m.gauge.value = s.value; break;
    case MetricKind::histogram:
      m.histogram.sample_count = s.count;
      m.histogram.sample_sum = s.value;
      for (const auto& [upper, cumulative] : s.buckets) {
        m.histogram.bucket.push_back(prometheus::ClientMetric::Bucket{cumulative, upper});
      }
      break;
  }
  return m;
}

}  // namespace

std::vector<prometheus::MetricFamily> to_families(const std::vector<MetricSample>& samples) {
  std::vector<prometheus::MetricFamily> families;
  std::map<std::string, std::size_t, std::less<>> index;
  for (const MetricSample& s : samples) {
    auto [it, added] = index.try_emplace(s.name, families.size());
    if (added) families.push_back(prometheus::MetricFamily{s.name, s.help, type_of(s.kind), {}});
    families[it->second].metric.push_back(to_metric(s));
  }
  return families;
}

StoreCollectable::StoreCollectable(std::shared_ptr<const SessionStore> store) : store_(std::move(store)) {}

std::vector<prometheus::MetricFamily> StoreCollectable::Collect() const { return to_families(store_->metrics()); }

}  // namespace websession::metrics
