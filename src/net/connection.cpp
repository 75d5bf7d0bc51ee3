#include "net/connection.h"

#include <boost/asio/bind_executor.hpp>

namespace websession::net::detail {

asio::execution_context::id ConnectionPool::id;

void Connection::arm(std::chrono::steady_clock::time_point deadline, const Executor& executor) {
  const std::uint64_t generation = ++generation_;
  timed_out_ = false;
  timer_.expires_at(deadline);
  // The handler runs on the executor of the request's own operations, never concurrently with
  // them; the generation check ignores a wait that fired just as its request finished.
  timer_.async_wait(asio::bind_executor(executor, [self = shared_from_this(), generation](const boost::system::error_code& ec) {
    if (ec || self->generation_ != generation) return;
    self->timed_out_ = true;
    self->close();
  }));
}

void Connection::disarm() noexcept {
  ++generation_;
  timer_.cancel();
}

void Connection::close() noexcept {
  boost::system::error_code ignored;
  resolver_.cancel();
  socket().close(ignored);
}

ConnectionPtr ConnectionPool::take(const std::string& origin, std::chrono::milliseconds idle_timeout) {
  const auto oldest = std::chrono::steady_clock::now() - idle_timeout;
  std::lock_guard lock(mutex_);
  auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  while (!list.empty()) {
    ConnectionPtr c = std::move(list.back());
    list.pop_back();
    // Older connections sit below this one: idle too long too, servers may drop them any moment.
    if (c->idle_since < oldest) {
      list.clear();
      return nullptr;
    }
    if (c->is_open()) return c;
  }
  return nullptr;
}

void ConnectionPool::give(const std::string& origin, ConnectionPtr connection, std::size_t max_idle) {
  connection->idle_since = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto& list = idle_[origin];
  if (list.size() < max_idle) list.push_back(std::move(connection));
}

std::size_t ConnectionPool::idle(const std::string& origin) {
  std::lock_guard lock(mutex_);
  auto it = idle_.find(origin);
  return it == idle_.end() ? 0 : it->second.size();
}

void ConnectionPool::shutdown() {
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle;
  {
    std::lock_guard lock(mutex_);
    idle.swap(idle_);
  }
  for (auto& [origin, list] : idle) {
    for (auto& c : list) c->close();
  }
}

}  // namespace websession::net::detail
