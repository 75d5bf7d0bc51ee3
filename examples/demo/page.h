// The demo's page at GET /: shows the session and drives the API with fetch().
#pragma once

#include <string_view>

namespace demo {

inline constexpr std::string_view kPageHtml = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>websession demo</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  table { border-collapse: collapse; margin: 1rem 0; }
  td { padding: .25rem .75rem; border-bottom: 1px solid #ddd; }
  td:first-child { color: #555; }
  button, input { font-size: 1rem; margin: .25rem .25rem .25rem 0; }
  #status { min-height: 1.5rem; color: #555; }
  #status.error { color: #b00; }
</style>
</head>
<body>
<h1>websession demo</h1>
<p id="greeting">Not logged in.</p>
<form id="login-form">
  <label for="user">User name</label>
  <input id="user" name="user" autocomplete="username" required maxlength="64" value="alice">
  <button id="login" type="submit">Log in</button>
</form>
<section id="oidc" hidden>
  <p>Or sign in through the OpenID provider:</p>
  <form id="signin-form" method="get" action="/signin">
    <input type="hidden" name="return_to" value="/">
    <button id="signin" type="submit">Sign in</button>
  </form>
  <form id="signout-form" method="post" action="/signout" hidden>
    <button id="signout" type="submit">Sign out</button>
  </form>
  <button id="me" type="button" hidden>Call /api/me</button>
</section>
<p>
  <button id="views" type="button">Count a view</button>
  <button id="refresh" type="button">Refresh tokens</button>
  <button id="logout" type="button">Log out</button>
</p>
<table>
  <tr><td>authenticated</td><td id="authenticated">false</td></tr>
  <tr><td>user</td><td id="user-name"></td></tr>
  <tr><td>signed in with</td><td id="auth"></td></tr>
  <tr><td>views</td><td id="view-count">0</td></tr>
  <tr><td>refresh_count</td><td id="refresh-count">0</td></tr>
  <tr><td>access_valid</td><td id="access-valid">false</td></tr>
</table>
<h2>Your sessions</h2>
<p id="sessions-note">Log in to see your sessions.</p>
<table id="sessions"></table>
<p><button id="logout-everywhere" type="button">Log out everywhere</button></p>
<p id="status"></p>
<script>
"use strict";
const $ = (id) => document.getElementById(id);

function showStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || ("HTTP " + res.status));
  return data;
}

async function load() {
  const s = await call("GET", "/api/session");
  $("authenticated").textContent = String(s.authenticated);
  $("user-name").textContent = s.user || "";
  $("view-count").textContent = String(s.views);
  $("refresh-count").textContent = String(s.refresh_count);
  $("access-valid").textContent = String(s.access_valid);
  $("auth").textContent = s.auth || "";
  const oidc = s.auth === "oidc";
  $("greeting").textContent = !s.authenticated ? "Not logged in."
    : oidc ? "Signed in as " + s.user + " (OpenID Connect)." : "Logged in as " + s.user + ".";
  $("signin-form").hidden = oidc;
  $("signout-form").hidden = !oidc;
  $("me").hidden = !oidc;
  await loadSessions(s.authenticated);
  document.body.dataset.ready = "true";
}

// Every live session of this user: when it began, when it was last used, from which browser.
async function loadSessions(authenticated) {
  const table = $("sessions");
  table.replaceChildren();
  if (!authenticated) {
    $("sessions-note").textContent = "Log in to see your sessions.";
    return;
  }
  const list = await call("GET", "/api/sessions");
  $("sessions-note").textContent = list.sessions.length + " session(s):";
  const when = (t) => new Date(t * 1000).toLocaleString();
  for (const s of list.sessions) {
    const row = table.insertRow();
    row.className = "session" + (s.current ? " current" : "");
    row.insertCell().textContent = s.current ? "this browser" : "other";
    row.insertCell().textContent = "since " + when(s.created);
    row.insertCell().textContent = "last seen " + when(s.last_seen);
    row.insertCell().textContent = s.user_agent;
  }
}

async function act(what, fn) {
  try {
    const r = await fn();
    showStatus(what + ": " + JSON.stringify(r), false);
  } catch (e) {
    showStatus(what + " failed: " + e.message, true);
  }
  try { await load(); } catch (e) { showStatus("loading the session failed: " + e.message, true); }
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act("log in", () => call("POST", "/api/login", { user: $("user").value }));
});
$("views").addEventListener("click", () => act("count a view", () => call("POST", "/api/views")));
$("refresh").addEventListener("click", () => act("refresh", () => call("POST", "/api/refresh")));
$("logout").addEventListener("click", () => act("log out", () => call("POST", "/api/logout")));
$("logout-everywhere").addEventListener("click",
    () => act("log out everywhere", () => call("POST", "/api/logout-everywhere")));
$("me").addEventListener("click", () => act("/api/me", () => call("GET", "/api/me")));
load().catch((e) => showStatus("loading the session failed: " + e.message, true));
</script>
</body>
</html>
)html";

}  // namespace demo
