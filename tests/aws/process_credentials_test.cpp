#include "websession/aws/process_credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "aws/support/fake_env.h"

namespace websession::aws {
namespace {

using namespace std::chrono_literals;
using websession::testing::TempDir;

using Words = std::vector<std::string>;

constexpr const char* kOutput =
    R"({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token", "Expiration": "2099-01-01T00:00:00Z"})";

// Writes an executable shell script and returns its path.
std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir.write(name, "#!/bin/sh\n" + body + "\n");
  ::chmod(path.c_str(), 0700);
  return path;
}

TEST(SplitCommand, WordsAndQuotesWithoutAShell) {
  EXPECT_EQ(split_command("/usr/bin/helper --role  sessions"), (Words{"/usr/bin/helper", "--role", "sessions"}));
  EXPECT_EQ(split_command(R"(helper 'a b' "c \"d\"" e\ f)"), (Words{"helper", "a b", "c \"d\"", "e f"}));
  EXPECT_EQ(split_command(R"(helper "" '')"), (Words{"helper", "", ""}));
  EXPECT_EQ(split_command("helper --x=1"), (Words{"helper", "--x=1"}));
}

TEST(SplitCommand, AnythingAShellWouldExpandNeedsTheShell) {
  for (const char* line : {"helper | jq .", "helper > out", "helper $HOME", "helper \"$HOME\"", "~/bin/helper",
                           "helper *", "A=1 helper", "helper; rm", "helper 'unbalanced", "helper `x`", "", "   "}) {
    EXPECT_EQ(split_command(line), std::nullopt) << line;
  }
}

TEST(ProcessOutput, VersionOneOnly) {
  auto c = parse_process_output(kOutput);
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ(c->access_key_id, "AKIDPROC");
  EXPECT_EQ(c->session_token, "proc-token");
  EXPECT_TRUE(c->expiration);
  auto long_term = parse_process_output(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"})");
  ASSERT_TRUE(long_term);
  EXPECT_FALSE(long_term->expiration);
  EXPECT_EQ(parse_process_output(R"({"Version":2,"AccessKeyId":"A","SecretAccessKey":"S"})").code(),
            ErrorCode::permission_denied);
  EXPECT_EQ(parse_process_output(R"({"AccessKeyId":"A","SecretAccessKey":"S"})").code(), ErrorCode::permission_denied);
  auto bad = parse_process_output("the secret is hunter2");
  EXPECT_EQ(bad.code(), ErrorCode::permission_denied);
  EXPECT_EQ(bad.error().message.find("hunter2"), std::string::npos);
  EXPECT_FALSE(parse_process_output(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})"));
}

TEST(ProcessProvider, RunsTheCommandWithItsArguments) {
  TempDir dir;
  const std::string args = dir.path() + "/args";
  const std::string helper = script(dir, "helper", "printf '%s|' \"$@\" > '" + args + "'\ncat <<'EOF'\n" + kOutput + "\nEOF");
  ProcessCredentialsProvider p(helper + " --role 'two words'");
  auto c = p.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "AKIDPROC");
  EXPECT_EQ((*c)->secret_access_key, "proc-secret");
  std::ifstream in(args);
  std::string seen((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(seen, "--role|two words|");
}

TEST(ProcessProvider, ACommandThatNeedsAShellRunsInOne) {
  TempDir dir;
  const std::string helper = script(dir, "helper", std::string("cat <<'EOF'\n") + kOutput + "\nEOF");
  ProcessCredentialsProvider p(helper + " | cat");
  auto c = p.credentials();
  ASSERT_TRUE(c) << c.error().describe();
  EXPECT_EQ((*c)->access_key_id, "AKIDPROC");
}

TEST(ProcessProvider, FailuresNeverQuoteStandardErrorOrTheOutput) {
  TempDir dir;
  const std::string failing = script(dir, "failing", "echo 'stderr-secret-xyz' >&2\necho 'stdout-secret-abc'\nexit 3");
  auto e = ProcessCredentialsProvider(failing).credentials();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.code(), ErrorCode::permission_denied);
  EXPECT_NE(e.error().message.find("status 3"), std::string::npos);
  EXPECT_EQ(e.error().message.find("secret"), std::string::npos);

  const std::string garbage = script(dir, "garbage", "echo 'stdout-secret-abc'");
  auto g = ProcessCredentialsProvider(garbage).credentials();
  EXPECT_EQ(g.code(), ErrorCode::permission_denied);
  EXPECT_EQ(g.error().message.find("secret"), std::string::npos);

  auto missing = ProcessCredentialsProvider(dir.path() + "/does-not-exist --flag").credentials();
  EXPECT_EQ(missing.code(), ErrorCode::permission_denied);
}

TEST(ProcessProvider, AHangingCommandIsKilledAtTheTimeout) {
  TempDir dir;
  const std::string marker = dir.path() + "/still-running";
  const std::string hanging = script(dir, "hanging", "sleep 3\ntouch '" + marker + "'");
  ProcessCredentialsProvider p(hanging, 300ms);
  const auto start = std::chrono::steady_clock::now();
  auto e = p.credentials();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.code(), ErrorCode::unavailable);
  EXPECT_NE(e.error().message.find("300 ms"), std::string::npos);
  std::this_thread::sleep_for(3500ms);  // the whole process group was killed: nothing finished the script
  EXPECT_FALSE(std::ifstream(marker).good());
}

TEST(ProcessProvider, ExpiredCredentialsAreRefused) {
  TempDir dir;
  const std::string stale = script(
      dir, "stale", R"(echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"2001-01-01T00:00:00Z"}')");
  EXPECT_EQ(ProcessCredentialsProvider(stale).credentials().code(), ErrorCode::permission_denied);
}

TEST(ProcessProvider, TheCoroutinePathDoesNotBlockTheThread) {
  TempDir dir;
  const std::string slow = script(dir, "slow", std::string("sleep 0.3\ncat <<'EOF'\n") + kOutput + "\nEOF");
  ProcessCredentialsProvider p(slow);
  asio::io_context ioc;
  std::optional<Result<CredentialsPtr>> answer;
  int ticks = 0;
  asio::co_spawn(ioc, [&]() -> Task<void> { answer.emplace(co_await p.co_credentials()); }, asio::detached);
  asio::co_spawn(
      ioc,
      [&]() -> Task<void> {
        const Executor executor = co_await asio::this_coro::executor;
        asio::steady_timer t(executor);
        constexpr asio::use_awaitable_t<Executor> token;
        while (!answer) {
          t.expires_after(20ms);
          co_await t.async_wait(token);
          ++ticks;
        }
      },
      asio::detached);
  ioc.run();
  ASSERT_TRUE(answer && *answer) << (answer ? answer->error().describe() : "no answer");
  EXPECT_GE(ticks, 5);  // the other coroutine kept running while the process did
}

}  // namespace
}  // namespace websession::aws
