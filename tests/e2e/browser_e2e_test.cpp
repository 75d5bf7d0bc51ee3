// The demo's page in a real browser: headless Chromium (Debian's chromium) loads /#login=<name>, whose
// script fills the login form and submits it; the page then shows the session from /api/session. The
// DOM is read with --dump-dom once the page's network activity has settled (--virtual-time-budget).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "demo_process.h"

namespace {

const char* chromium_path() {
  const char* env = std::getenv("WEBSESSION_CHROMIUM");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
}

class BrowserE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(BrowserE2E, LogInThroughTheFormAndSeeTheUserOnThePage) {
  if (!std::filesystem::exists(chromium_path())) {
    const char* skip = std::getenv("WEBSESSION_SKIP_BROWSER_TESTS");
    if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_BROWSER_TESTS=1";
    FAIL() << chromium_path() << " not found (apt-get install chromium, or WEBSESSION_SKIP_BROWSER_TESTS=1)";
  }
  e2e::Demo demo({{"SERVER", GetParam()}});
  const auto profile = std::filesystem::temp_directory_path() /
                       ("websession-chromium-" + std::to_string(::getpid()) + "-" + GetParam());
  std::filesystem::create_directories(profile);
  const std::string dom_path = profile.string() + ".dom";
  {
    e2e::ChildProcess browser(
        {chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--user-data-dir=" + profile.string(), "--virtual-time-budget=15000", "--dump-dom",
         demo.url("/#login=zoe")},
        {}, dom_path);
    auto code = browser.wait_exit(std::chrono::seconds(90));
    ASSERT_TRUE(code.has_value()) << "chromium did not finish";
    EXPECT_EQ(*code, 0) << browser.log();
    const std::string dom = browser.log();
    EXPECT_NE(dom.find(R"(<p id="greeting">Logged in as zoe.</p>)"), std::string::npos) << dom;
    EXPECT_NE(dom.find(R"(<td id="user-name">zoe</td>)"), std::string::npos) << dom;
    EXPECT_NE(dom.find(R"(<td id="authenticated">true</td>)"), std::string::npos) << dom;
  }
  std::error_code ignored;
  std::filesystem::remove_all(profile, ignored);
  // The login really went through the server.
  const std::string metrics = e2e::get(demo.url("/metrics")).body;
  EXPECT_NE(metrics.find(R"(websession_demo_http_requests_total{route="/api/login",status="200"} 1)"),
            std::string::npos)
      << metrics;
}

INSTANTIATE_TEST_SUITE_P(Servers, BrowserE2E, ::testing::Values("httplib", "beast"),
                         [](const auto& p) { return p.param; });

}  // namespace
