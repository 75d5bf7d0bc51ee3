// A child process for tests that need several: its environment is the test's, less some variables,
// plus some; its stdout and stderr go to a log file. SIGTERM (then SIGKILL) and reaped on
// destruction, and killed with the test process if that dies first.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace websession::testing {

class ChildProcess {
 public:
  /// Starts argv[0] (a path) with `env` added to the environment and the variables named in `unset`
  /// removed, writing its output to `log_path` (deleted on destruction).
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_path, const std::set<std::string>& unset = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Waits for the process to exit; its exit status (or -signal), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  void signal(int sig) const;
  /// The process's stdout and stderr so far.
  [[nodiscard]] std::string log() const;
  /// Waits until the log contains `text`; false on timeout or if the process exited first.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);

  /// A log path in the temporary directory that no other child of this process uses.
  static std::string temp_log_path(const std::string& prefix);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string log_path_;
};

}  // namespace websession::testing
