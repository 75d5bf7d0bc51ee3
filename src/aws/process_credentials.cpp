#include "websession/aws/process_credentials.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "aws/detail/util.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace websession::aws {
namespace {

using std::chrono::steady_clock;

// More output than any credentials document: the process is killed rather than read for ever.
constexpr std::size_t kMaxOutput = 64 * 1024;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable_t<Executor>{});

bool shell_special(char c) { return std::string_view("|&;<>()*?[~#!{}\n").find(c) != std::string_view::npos; }

// Appends the word being built, if any.
void end_word(std::vector<std::string>& words, std::string& word, bool& in_word) {
  if (in_word) words.push_back(std::move(word));
  word.clear();
  in_word = false;
}

}  // namespace

std::optional<std::vector<std::string>> split_command(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == ' ' || c == '\t') {
      end_word(words, word, in_word);
    } else if (c == '\'') {
      const std::size_t close = command.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;
      word.append(command.substr(i + 1, close - i - 1));
      in_word = true;
      i = close;
    } else if (c == '"') {
      in_word = true;
      for (++i;; ++i) {
        if (i >= command.size()) return std::nullopt;
        const char d = command[i];
        if (d == '"') break;
        if (d == '$' || d == '`') return std::nullopt;
        if (d == '\\' && i + 1 < command.size() && (command[i + 1] == '"' || command[i + 1] == '\\')) ++i;
        word.push_back(command[i]);
      }
    } else if (c == '\\') {
      if (i + 1 >= command.size() || command[i + 1] == '\n') return std::nullopt;
      word.push_back(command[++i]);
      in_word = true;
    } else if (shell_special(c) || c == '$' || c == '`' || (c == '=' && words.empty())) {
      return std::nullopt;
    } else {
      word.push_back(c);
      in_word = true;
    }
  }
  end_word(words, word, in_word);
  if (words.empty()) return std::nullopt;
  return words;
}

Result<Credentials> parse_process_output(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return Error(ErrorCode::permission_denied, "credential_process output is not a JSON object");
  const auto& o = doc.get_object();
  auto str = [&](std::string_view key) -> std::optional<std::string> {
    auto it = o.find(key);
    if (it == o.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().get_string());
  };
  auto version = o.find("Version");
  if (version == o.end() || !version->value().is_number() || version->value().to_number<double>() != 1.0) {
    return Error(ErrorCode::permission_denied, "credential_process output must have \"Version\": 1");
  }
  auto key = str("AccessKeyId");
  auto secret = str("SecretAccessKey");
  if (!key || !secret || key->empty() || secret->empty()) {
    return Error(ErrorCode::permission_denied, "credential_process output lacks AccessKeyId or SecretAccessKey");
  }
  Credentials c{std::move(*key), std::move(*secret), str("SessionToken").value_or(""), std::nullopt};
  if (auto exp = str("Expiration")) {
    c.expiration = parse_iso8601(*exp);
    if (!c.expiration) return Error(ErrorCode::permission_denied, "credential_process output has a malformed Expiration");
  }
  return c;
}

namespace {

// A started process: its ID (also its process group's) and the read end of its standard output.
struct Child {
  pid_t pid = -1;
  int out = -1;
};

// posix_spawn's attributes and file actions, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Starts `command` with its standard output on a pipe: directly when it splits into words,
// else through /bin/sh -c.
Result<Child> spawn(const std::string& command) {
  std::vector<std::string> argv_text;
  const bool direct = [&] {
    auto words = split_command(command);
    if (words) argv_text = std::move(*words);
    return words.has_value();
  }();
  if (!direct) argv_text = {"sh", "-c", command};
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::array<int, 2> pipe_fds{-1, -1};
  if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    return Error(ErrorCode::unavailable, std::string("credential_process: pipe: ") + std::strerror(errno));
  }
  SpawnSetup setup;
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);  // a server that ignores SIGPIPE must not pass that on
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, pipe_fds[1], 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Sockets of the server (Asio opens them without O_CLOEXEC) stay out of the helper.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
#endif
  pid_t pid = -1;
  const int rc = direct ? ::posix_spawnp(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), environ)
                        : ::posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv.data(), environ);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return Error(ErrorCode::permission_denied, std::string("cannot start credential_process: ") + std::strerror(rc));
  }
  return Child{pid, pipe_fds[0]};
}

// What the reading coroutine shares with the deadline's handler, which may outlive it.
struct Run {
  asio::posix::stream_descriptor out;
  asio::steady_timer deadline;
  std::array<char, 4096> chunk{};
  pid_t pid;
  bool timed_out = false;
  bool reaped = false;

  Run(const Executor& ex, Child child) : out(ex, child.out), deadline(ex), pid(child.pid) {}
  ~Run() {
    if (reaped) return;
    // Abandoned (the coroutine was destroyed with its io_context): never leave a process behind.
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;
  void kill() const { ::kill(-pid, SIGKILL); }
};

// Reads standard output to its end, or until the deadline or the size limit kills the process.
Task<Result<std::string>> read_output(const std::shared_ptr<Run>& run) {
  std::string output;
  for (;;) {
    const auto buffer = asio::buffer(run->chunk);
    auto [ec, n] = co_await run->out.async_read_some(buffer, kAwait);
    output.append(run->chunk.data(), n);
    if (output.size() > kMaxOutput) {
      run->kill();
      co_return Error(ErrorCode::permission_denied, "credential_process printed more than 64 KiB");
    }
    if (ec == asio::error::eof) co_return output;
    if (ec == asio::error::operation_aborted && !run->timed_out) {
      run->kill();
      co_return Error(ErrorCode::cancelled, "cancelled while running credential_process");
    }
    if (ec) co_return output;  // the deadline (reported by the caller) or a read error
  }
}

// Waits for the process to exit (polling waitpid on timers: no thread, no SIGCHLD handler), and
// kills it at `limit`. The wait status, or nullopt when someone else reaped it (SIGCHLD ignored).
Task<std::optional<int>> reap(const std::shared_ptr<Run>& run, steady_clock::time_point limit) {
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(run->pid, &status, WNOHANG);
    if (r == run->pid || (r < 0 && errno != EINTR)) {
      run->reaped = true;
      co_return r == run->pid ? std::optional<int>(status) : std::nullopt;
    }
    if (steady_clock::now() >= limit) {
      run->timed_out = true;
      run->kill();
      pause = std::chrono::milliseconds(1);
    }
    const Executor executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, pause);
    (void)co_await timer.async_wait(kAwait);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

Error exit_error(int status) {
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    std::string message = "credential_process exited with status " + std::to_string(code);
    if (code == 127) message += " (command not found)";
    return Error(ErrorCode::permission_denied, std::move(message));
  }
  return Error(ErrorCode::permission_denied,
               "credential_process was killed by signal " + std::to_string(WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

// Runs `command` and returns its standard output once it has exited with status 0.
Task<Result<std::string>> run_process(const std::string& command, std::chrono::milliseconds timeout) {
  auto child = spawn(command);
  if (!child) co_return std::move(child).error();
  const Executor executor = co_await asio::this_coro::executor;
  auto run = std::make_shared<Run>(executor, *child);
  const auto limit = steady_clock::now() + timeout;
  run->deadline.expires_at(limit);
  run->deadline.async_wait([run](const boost::system::error_code& ec) {
    if (ec) return;
    run->timed_out = true;
    run->kill();
    boost::system::error_code ignored;
    run->out.cancel(ignored);
  });
  auto output = co_await read_output(run);
  run->deadline.cancel();
  auto status = co_await reap(run, limit);
  if (run->timed_out) {
    co_return Error(ErrorCode::unavailable,
                    "credential_process did not finish within " + std::to_string(timeout.count()) + " ms");
  }
  if (!output) co_return std::move(output).error();
  if (status && !(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)) co_return exit_error(*status);
  co_return output;
}

}  // namespace

ProcessCredentialsProvider::ProcessCredentialsProvider(std::string command, std::chrono::milliseconds timeout,
                                                       SystemClock clock)
    : command_(std::move(command)), timeout_(timeout), clock_(std::move(clock)) {}

Result<CredentialsPtr> ProcessCredentialsProvider::credentials() {
  return run_blocking([this] { return co_credentials(); });
}

Task<Result<CredentialsPtr>> ProcessCredentialsProvider::co_credentials() {
  auto output = co_await run_process(command_, timeout_);
  if (!output) co_return std::move(output).error();
  auto parsed = parse_process_output(*output);
  if (!parsed) co_return std::move(parsed).error();
  const auto now = clock_ ? clock_() : std::chrono::system_clock::now();
  if (parsed->expiration && *parsed->expiration <= now) {
    co_return Error(ErrorCode::permission_denied, "credential_process returned credentials that have already expired");
  }
  co_return detail::to_pointer(std::move(parsed));
}

}  // namespace websession::aws
