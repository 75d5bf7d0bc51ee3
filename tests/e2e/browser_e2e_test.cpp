// The demo's page in a real browser, used the way a person uses it. Headless Chromium (Debian's chromium
// package) is driven over the Chrome DevTools Protocol by a small client below (Boost.Beast websocket,
// Boost.JSON messages): the test opens the demo's /, clicks into the login form's input, types a user
// name, clicks "Log in" with mouse events at the button's position, and reads what the page shows. The
// page has no test hooks: every action is an input event Chromium dispatches as if from a mouse or
// keyboard; JavaScript is only evaluated to read the page and to find where elements are.
//
// WEBSESSION_CHROMIUM overrides the browser (default /usr/bin/chromium); WEBSESSION_SKIP_BROWSER_TESTS=1
// skips the test.
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "demo_process.h"
#include "oidc/support/dev_provider.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// Everything one test does (starting Chromium included) stops at this budget: a hung browser fails the
// test well within a minute instead of hanging ctest.
constexpr auto kTestBudget = std::chrono::seconds(45);
// How long one step (a page load, the page reacting to a click) may take.
constexpr auto kStepTimeout = std::chrono::seconds(15);

const char* chromium_path() {
  const char* env = std::getenv("WEBSESSION_CHROMIUM");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/chromium";
}

/// A fresh directory under the temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "websession-browser-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Whether `v` is the string `s`.
bool is_string(const json::value& v, std::string_view s) { return v.is_string() && v.get_string() == s; }

/// A Chrome DevTools Protocol connection to one target (a page), synchronous, with a deadline on every
/// network wait.
class Cdp {
 public:
  Cdp(const std::string& ws_url, Clock::time_point deadline) : ws_(ioc_), deadline_(deadline) {
    // ws://127.0.0.1:<port>/devtools/page/<id>
    const std::string prefix = "ws://";
    if (ws_url.rfind(prefix, 0) != 0) throw std::runtime_error("not a ws:// URL: " + ws_url);
    const auto slash = ws_url.find('/', prefix.size());
    const std::string host_port = ws_url.substr(prefix.size(), slash - prefix.size());
    const std::string target = slash == std::string::npos ? "/" : ws_url.substr(slash);
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("no port in " + ws_url);
    const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host_port.substr(0, colon)),
                                           static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1))));
    run("connect to " + host_port,
        [&](auto handler) { beast::get_lowest_layer(ws_).async_connect(endpoint, std::move(handler)); });
    run("websocket handshake", [&](auto handler) { ws_.async_handshake(host_port, target, std::move(handler)); });
    ws_.text(true);
  }

  /// Sends a command and returns its result; events that arrive meanwhile are kept for wait_event().
  json::object call(std::string_view method, json::object params = {}) {
    const std::int64_t id = next_id_++;
    const std::string text = json::serialize(json::object{{"id", id}, {"method", method}, {"params", params}});
    run(std::string(method), [&](auto handler) { ws_.async_write(asio::buffer(text), std::move(handler)); });
    while (true) {
      json::object message = read_message(std::string(method));
      const json::value* message_id = message.if_contains("id");
      if (message_id == nullptr) {
        events_.push_back(std::move(message));
        continue;
      }
      if (!message_id->is_int64() || message_id->as_int64() != id) continue;
      if (const json::value* error = message.if_contains("error")) {
        throw std::runtime_error(std::string(method) + " failed: " + json::serialize(*error));
      }
      const json::value* result = message.if_contains("result");
      return result != nullptr && result->is_object() ? result->as_object() : json::object{};
    }
  }

  /// Waits for an event (one that arrived since the last forget_events() counts) and returns its params.
  json::object wait_event(std::string_view method) {
    while (true) {
      for (auto it = events_.begin(); it != events_.end(); ++it) {
        if (is_string((*it)["method"], method)) {
          json::value params = (*it)["params"];
          events_.erase(events_.begin(), it + 1);
          return params.is_object() ? params.as_object() : json::object{};
        }
      }
      events_.push_back(read_message(std::string(method)));
    }
  }

  void forget_events() { events_.clear(); }

  /// Evaluates a JavaScript expression in the page (promises awaited) and returns its value.
  json::value evaluate(const std::string& expression) {
    json::object result = call("Runtime.evaluate",
                               {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}});
    if (const json::value* exception = result.if_contains("exceptionDetails")) {
      throw std::runtime_error("evaluating `" + expression + "` threw: " + json::serialize(*exception));
    }
    const json::value* remote = result.if_contains("result");
    if (remote == nullptr || !remote->is_object()) return nullptr;
    const json::value* value = remote->as_object().if_contains("value");
    return value == nullptr ? json::value(nullptr) : *value;
  }

  [[nodiscard]] Clock::time_point deadline() const { return deadline_; }

 private:
  // Starts one asynchronous operation and runs the io_context until it completes or the deadline passes
  // (then the socket is closed, which cancels the operation, and this throws).
  template <class Start>
  void run(const std::string& what, Start start) {
    bool done = false;
    boost::system::error_code result;
    start([&](boost::system::error_code ec, auto&&...) {
      done = true;
      result = ec;
    });
    ioc_.restart();
    ioc_.run_until(deadline_);
    if (!done) {
      beast::get_lowest_layer(ws_).close();
      ioc_.restart();
      ioc_.run();
      throw std::runtime_error("DevTools: timed out in " + what);
    }
    if (result) throw std::runtime_error("DevTools: " + what + ": " + result.message());
  }

  json::object read_message(const std::string& waiting_for) {
    beast::flat_buffer buffer;
    run("waiting for " + waiting_for, [&](auto handler) { ws_.async_read(buffer, std::move(handler)); });
    json::value message = json::parse(beast::buffers_to_string(buffer.data()));
    if (!message.is_object()) throw std::runtime_error("DevTools sent a non-object: " + json::serialize(message));
    return std::move(message.as_object());
  }

  asio::io_context ioc_;
  beast::websocket::stream<beast::tcp_stream> ws_;
  Clock::time_point deadline_;
  std::int64_t next_id_ = 1;
  std::deque<json::object> events_;
};

/// Polls `probe` every 50 ms until it returns true or `timeout` (capped by the test's deadline) passes.
bool eventually(Clock::time_point test_deadline, const std::function<bool()>& probe,
                Clock::duration timeout = kStepTimeout) {
  const auto deadline = std::min(test_deadline, Clock::now() + timeout);
  while (true) {
    if (probe()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string js_string(std::string_view s) { return json::serialize(json::value(s)); }

/// The page, driven through a Cdp connection with input events.
class Page {
 public:
  explicit Page(Cdp& cdp) : cdp_(cdp) {}

  /// Navigates (or reloads, when `url` is empty) and waits for the load event and for the page's script
  /// to have shown the session from /api/session (it sets data-ready on <body>).
  void load(const std::string& url) {
    cdp_.forget_events();
    if (url.empty()) {
      cdp_.call("Page.reload");
    } else {
      json::object nav = cdp_.call("Page.navigate", {{"url", url}});
      if (const json::value* error = nav.if_contains("errorText")) {
        throw std::runtime_error("navigating to " + url + " failed: " + json::serialize(*error));
      }
    }
    cdp_.wait_event("Page.loadEventFired");
    if (!eventually(cdp_.deadline(), [&] { return is_string(cdp_.evaluate("document.body.dataset.ready"), "true"); })) {
      throw std::runtime_error("the page did not show the session: " + body_text());
    }
  }

  std::string body_text() { return string_of("document.body.innerText"); }
  std::string text_of(const std::string& element_id) {
    return string_of("document.getElementById(" + js_string(element_id) + ").textContent");
  }
  std::string value_of(const std::string& element_id) {
    return string_of("document.getElementById(" + js_string(element_id) + ").value");
  }

  /// A left click at the centre of the element, as mouse events (after scrolling it into view).
  void click(const std::string& element_id) { click_css("#" + element_id); }

  /// The same for the first element that matches a CSS selector (for pages not ours, like the
  /// provider's login page, whose elements have no IDs).
  void click_css(const std::string& selector) {
    const json::value box = cdp_.evaluate(
        "(() => { const e = document.querySelector(" + js_string(selector) +
        "); e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        " const x = r.left + r.width / 2, y = r.top + r.height / 2;"
        " return {x, y, width: r.width, height: r.height, hit: document.elementFromPoint(x, y) === e}; })()");
    const json::object& b = box.as_object();
    if (b.at("width").to_number<double>() <= 0 || b.at("height").to_number<double>() <= 0 || !b.at("hit").as_bool()) {
      throw std::runtime_error(selector + " cannot be clicked: " + json::serialize(box));
    }
    const double x = b.at("x").to_number<double>();
    const double y = b.at("y").to_number<double>();
    cdp_.call("Input.dispatchMouseEvent", {{"type", "mouseMoved"}, {"x", x}, {"y", y}});
    cdp_.call("Input.dispatchMouseEvent", {{"type", "mousePressed"}, {"x", x}, {"y", y}, {"button", "left"},
                                           {"buttons", 1}, {"clickCount", 1}});
    cdp_.call("Input.dispatchMouseEvent", {{"type", "mouseReleased"}, {"x", x}, {"y", y}, {"button", "left"},
                                           {"buttons", 0}, {"clickCount", 1}});
  }

  /// Clicks into the input, selects what it holds with Ctrl+A and types `text` over it.
  void type_into(const std::string& element_id, const std::string& text) { type_into_css("#" + element_id, text); }

  /// The same for the first element that matches a CSS selector.
  void type_into_css(const std::string& selector, const std::string& text) {
    click_css(selector);
    constexpr int kCtrl = 2;
    cdp_.call("Input.dispatchKeyEvent", {{"type", "rawKeyDown"}, {"modifiers", kCtrl}, {"key", "a"}, {"code", "KeyA"},
                                         {"windowsVirtualKeyCode", 65}, {"commands", json::array{"selectAll"}}});
    cdp_.call("Input.dispatchKeyEvent",
              {{"type", "keyUp"}, {"modifiers", kCtrl}, {"key", "a"}, {"code", "KeyA"}, {"windowsVirtualKeyCode", 65}});
    cdp_.call("Input.insertText", {{"text", text}});
  }

  /// Waits until an element matches the CSS selector (a page that the browser navigated to by itself).
  bool has(const std::string& selector) {
    return eventually(cdp_.deadline(), [&] {
      return cdp_.evaluate("document.querySelector(" + js_string(selector) + ") !== null") == true;
    });
  }
  /// The page's URL.
  std::string url() { return string_of("location.href"); }

  /// Waits until the element shows `expected`.
  bool shows(const std::string& element_id, const std::string& expected) {
    return eventually(cdp_.deadline(), [&] { return text_of(element_id) == expected; });
  }

 private:
  std::string string_of(const std::string& expression) {
    const json::value v = cdp_.evaluate(expression);
    return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
  }

  Cdp& cdp_;
};

/// The browser's cookie named `name` for `url`, or null.
json::value cookie(Cdp& cdp, const std::string& url, std::string_view name) {
  json::object result = cdp.call("Network.getCookies", {{"urls", json::array{json::value(url)}}});
  for (const json::value& c : result["cookies"].as_array()) {
    if (is_string(c.as_object().at("name"), name)) return c;
  }
  return nullptr;
}

/// Headless Chromium on a fresh profile with DevTools on a port it picks; the port read from the
/// DevToolsActivePort file it writes into the profile. Killed (by PID) on destruction.
class Chromium {
 public:
  Chromium(const TempDir& dir, Clock::time_point deadline)
      : profile_(dir.path() / "profile"),
        process_({chromium_path(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--user-data-dir=" + profile_.string(), "--remote-debugging-port=0",
                  // Nothing but this machine: a page's outside stylesheet (the provider's fonts)
                  // fails at once instead of waiting for a network that is not there.
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                  "about:blank"},
                 {}, (dir.path() / "chromium.log").string()) {
    const auto port_file = profile_ / "DevToolsActivePort";
    const bool started = eventually(deadline, [&] {
      if (process_.wait_exit(std::chrono::milliseconds(0))) {
        throw std::runtime_error("chromium exited: " + process_.log());
      }
      std::istringstream lines(read_file(port_file));
      std::string port_line;
      std::string path_line;
      if (!std::getline(lines, port_line) || !std::getline(lines, path_line) || port_line.empty()) return false;
      port_ = std::stoi(port_line);
      return true;
    });
    if (!started) throw std::runtime_error("chromium did not open DevTools: " + process_.log());
  }

  /// The WebSocket URL of the page target (the about:blank tab it started with).
  std::string page_websocket_url() {
    const e2e::HttpResponse list = e2e::get("http://127.0.0.1:" + std::to_string(port_) + "/json", 5000);
    if (list.status != 200) throw std::runtime_error("GET /json: " + std::to_string(list.status) + " " + list.body);
    const json::value targets = json::parse(list.body);
    for (const json::value& t : targets.as_array()) {
      const json::object& target = t.as_object();
      if (is_string(target.at("type"), "page")) return std::string(target.at("webSocketDebuggerUrl").as_string());
    }
    throw std::runtime_error("no page target in " + list.body);
  }

  e2e::ChildProcess& process() { return process_; }

 private:
  std::filesystem::path profile_;
  e2e::ChildProcess process_;
  int port_ = 0;
};

class BrowserE2E : public ::testing::TestWithParam<std::string> {};

TEST_P(BrowserE2E, LogInThroughTheFormAndSeeTheUserOnThePage) {
  const char* skip = std::getenv("WEBSESSION_SKIP_BROWSER_TESTS");
  if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_BROWSER_TESTS=1";
  ASSERT_TRUE(std::filesystem::exists(chromium_path()))
      << chromium_path() << " not found (apt-get install chromium, or WEBSESSION_SKIP_BROWSER_TESTS=1)";
  const auto deadline = Clock::now() + kTestBudget;

  e2e::Demo demo({{"SERVER", GetParam()}});
  const TempDir dir;  // declared before the browser: removed after it is gone
  Chromium browser(dir, deadline);
  Cdp cdp(browser.page_websocket_url(), deadline);
  Page page(cdp);
  cdp.call("Page.enable");

  page.load(demo.url("/"));
  EXPECT_EQ(page.text_of("greeting"), "Not logged in.");
  EXPECT_TRUE(cookie(cdp, demo.url("/"), "sessionId").is_null()) << "a cookie before anything was written";

  // Log in through the form: click into the input, type the name, click the button.
  page.type_into("user", "zoe");
  ASSERT_EQ(page.value_of("user"), "zoe");
  page.click("login");
  const bool logged_in =
      eventually(deadline, [&] { return page.body_text().find("Logged in as zoe.") != std::string::npos; });
  ASSERT_TRUE(logged_in) << page.body_text();
  EXPECT_EQ(page.text_of("greeting"), "Logged in as zoe.");
  EXPECT_EQ(page.text_of("user-name"), "zoe");
  EXPECT_EQ(page.text_of("authenticated"), "true");
  EXPECT_EQ(page.text_of("view-count"), "0");

  // The session cookie, as the browser keeps it: HttpOnly (so invisible to the page's script), Lax.
  const json::value session_cookie = cookie(cdp, demo.url("/"), "sessionId");
  ASSERT_TRUE(session_cookie.is_object()) << "no sessionId cookie after logging in";
  const json::object& c = session_cookie.as_object();
  EXPECT_TRUE(c.at("httpOnly") == true) << json::serialize(c);
  EXPECT_TRUE(is_string(c.at("path"), "/")) << json::serialize(c);
  EXPECT_TRUE(is_string(c.at("sameSite"), "Lax")) << json::serialize(c);
  EXPECT_FALSE(c.at("value").as_string().empty());
  EXPECT_TRUE(cdp.evaluate("document.cookie.includes('sessionId')") == false);

  // Count views: each click increments the session's counter, and the page shows it.
  page.click("views");
  EXPECT_TRUE(page.shows("view-count", "1")) << page.body_text();
  page.click("views");
  EXPECT_TRUE(page.shows("view-count", "2")) << page.body_text();

  // Refresh the tokens: the session gets valid ones.
  page.click("refresh");
  EXPECT_TRUE(page.shows("refresh-count", "1")) << page.body_text();
  EXPECT_TRUE(page.shows("access-valid", "true")) << page.body_text();

  // Reload the page: the cookie brings the same session back.
  page.load("");
  EXPECT_EQ(page.text_of("greeting"), "Logged in as zoe.");
  EXPECT_EQ(page.text_of("view-count"), "2");
  EXPECT_EQ(page.text_of("refresh-count"), "1");

  // Log out: the page says so and the browser no longer has the cookie.
  page.click("logout");
  EXPECT_TRUE(page.shows("greeting", "Not logged in.")) << page.body_text();
  EXPECT_EQ(page.text_of("authenticated"), "false");
  EXPECT_TRUE(cookie(cdp, demo.url("/"), "sessionId").is_null()) << "the cookie survived logging out";

  // Everything went through the server, once each.
  const std::string metrics = e2e::get(demo.url("/metrics")).body;
  for (const std::string route : {"/api/login", "/api/refresh", "/api/logout"}) {
    EXPECT_NE(metrics.find(R"(websession_demo_http_requests_total{route=")" + route + R"(",status="200"} 1)"),
              std::string::npos)
        << route << "\n" << metrics;
  }
  EXPECT_NE(metrics.find(R"(websession_demo_http_requests_total{route="/api/views",status="200"} 2)"),
            std::string::npos)
      << metrics;

  // Close the browser; if it does not go, ~ChildProcess sends SIGTERM (then SIGKILL) to its PID.
  try {
    cdp.call("Browser.close");
  } catch (const std::exception&) {
    // The connection may drop before the answer arrives.
  }
  const auto code = browser.process().wait_exit(std::chrono::seconds(10));
  EXPECT_TRUE(code.has_value()) << "chromium did not exit after Browser.close";
}

// The development provider, registered for the demo on `port` with the demo's default client.
websession::testing::DevProviderOptions provider_for(std::uint16_t port) {
  const std::string site = "http://127.0.0.1:" + std::to_string(port);
  websession::testing::DevProviderOptions o;
  o.client_id = "websession-demo";
  o.client_secret = "websession-demo-secret";
  o.redirect_uris = {site + "/auth/callback"};
  o.post_logout_redirect_uris = {site + "/"};
  o.backchannel_logout_uri = site + "/auth/backchannel-logout";
  return o;
}

// Sign in through the OpenID provider's own login page, and out through its logout page.
TEST_P(BrowserE2E, SignInThroughTheProvidersLoginPage) {
  const char* skip = std::getenv("WEBSESSION_SKIP_BROWSER_TESTS");
  if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "WEBSESSION_SKIP_BROWSER_TESTS=1";
  WEBSESSION_REQUIRE_DEV_PROVIDER();
  ASSERT_TRUE(std::filesystem::exists(chromium_path()))
      << chromium_path() << " not found (apt-get install chromium, or WEBSESSION_SKIP_BROWSER_TESTS=1)";
  const std::uint16_t port = e2e::free_port();
  websession::testing::DevProvider op(provider_for(port));
  e2e::Demo demo({{"SERVER", GetParam()}, {"OIDC_ISSUER", op.issuer()}}, port);
  const auto deadline = Clock::now() + kTestBudget;
  const TempDir dir;
  Chromium browser(dir, deadline);
  Cdp cdp(browser.page_websocket_url(), deadline);
  Page page(cdp);
  cdp.call("Page.enable");

  page.load(demo.url("/"));
  EXPECT_EQ(page.text_of("greeting"), "Not logged in.");
  // "Sign in" goes to the provider's login page: type a name and a password there, submit.
  page.click("signin");
  ASSERT_TRUE(page.has("input[name=login]")) << page.url() << "\n" << page.body_text();
  EXPECT_EQ(page.url().rfind(op.issuer(), 0), 0U) << page.url();
  page.type_into_css("input[name=login]", "alice");
  page.type_into_css("input[name=password]", "any password");
  page.click_css("button[type=submit]");
  // Back on the demo's page, signed in.
  const bool signed_in = eventually(deadline, [&] {
    return page.url().rfind(demo.url("/"), 0) == 0 &&
           page.body_text().find("Signed in as alice (OpenID Connect).") != std::string::npos;
  });
  ASSERT_TRUE(signed_in) << page.url() << "\n" << page.body_text();
  EXPECT_EQ(page.text_of("auth"), "oidc");
  const json::value session_cookie = cookie(cdp, demo.url("/"), "sessionId");
  ASSERT_TRUE(session_cookie.is_object());
  EXPECT_TRUE(session_cookie.as_object().at("httpOnly") == true);
  // The page calls /api/me, which calls the provider's UserInfo endpoint with the access token.
  page.click("me");
  EXPECT_TRUE(eventually(deadline, [&] { return page.text_of("status").find("alice@example.com") != std::string::npos; }))
      << page.text_of("status");

  // "Sign out": the provider asks to confirm, then sends the browser back, signed out.
  page.click("signout");
  ASSERT_TRUE(page.has("button[name=logout]")) << page.url() << "\n" << page.body_text();
  page.click_css("button[name=logout]");
  const bool signed_out = eventually(deadline, [&] {
    return page.url().rfind(demo.url("/"), 0) == 0 && page.body_text().find("Not logged in.") != std::string::npos;
  });
  EXPECT_TRUE(signed_out) << page.url() << "\n" << page.body_text();
  EXPECT_TRUE(cookie(cdp, demo.url("/"), "sessionId").is_null()) << "the cookie survived signing out";
  const auto events = op.events();
  EXPECT_EQ(events.at("authorization_code").as_int64(), 1);
  EXPECT_EQ(events.at("counts").as_object().at("end_session").as_int64(), 1);
  try {
    cdp.call("Browser.close");
  } catch (const std::exception&) {
    // The connection may drop before the answer arrives.
  }
  EXPECT_TRUE(browser.process().wait_exit(std::chrono::seconds(10)).has_value());
}

INSTANTIATE_TEST_SUITE_P(Servers, BrowserE2E, ::testing::Values("httplib", "beast"),
                         [](const auto& p) { return p.param; });

}  // namespace
