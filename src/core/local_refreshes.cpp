#include "core/local_refreshes.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace websession::detail {
namespace {

struct Registry {
  std::mutex mu;
  std::condition_variable finished;
  std::unordered_map<std::string, std::shared_ptr<LocalRefresh>> refreshes;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: used until the last thread ends
  return *r;
}

}  // namespace

std::string local_refresh_key(const void* store, const std::string& session_id) {
  std::string key = std::to_string(reinterpret_cast<std::uintptr_t>(store));
  key.push_back('\n');
  key.append(session_id);
  return key;
}

std::shared_ptr<LocalRefresh> LocalRefreshLead::try_lead(const std::string& key, std::chrono::milliseconds patience) {
  if (refresh_) return nullptr;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto [it, inserted] = r.refreshes.try_emplace(key);
  if (!inserted && std::chrono::steady_clock::now() < it->second->started + patience) return it->second;
  // No leader, or one stuck for longer than a lock may be held: this request leads from now on.
  it->second = refresh_ = std::make_shared<LocalRefresh>();
  key_ = key;
  return nullptr;
}

LocalRefreshLead::~LocalRefreshLead() {
  if (!refresh_) return;
  Registry& r = registry();
  {
    std::lock_guard lock(r.mu);
    refresh_->done.store(true);
    auto it = r.refreshes.find(key_);
    if (it != r.refreshes.end() && it->second == refresh_) r.refreshes.erase(it);
  }
  r.finished.notify_all();
}

std::shared_ptr<LocalRefresh> find_local_refresh(const std::string& key) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.refreshes.find(key);
  return it == r.refreshes.end() ? nullptr : it->second;
}

std::chrono::steady_clock::time_point local_wait_until(const LocalRefresh& refresh, std::chrono::milliseconds patience,
                                                       std::chrono::steady_clock::time_point deadline) {
  return std::min(refresh.started + patience, deadline);
}

void wait_local_refresh(LocalRefresh& refresh, std::chrono::steady_clock::time_point until) {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  r.finished.wait_until(lock, until, [&] { return refresh.done.load(); });
}

}  // namespace websession::detail
