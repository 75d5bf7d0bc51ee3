#include "tools/sessionctl.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "dynamo_store/layout.h"
#include "dynamo_store/table.h"
#include "websession/dynamo_session_store.h"
#include "websession/values.h"

namespace websession::tools {
namespace {

namespace ddb = websession::dynamodb;

std::string iso8601(TimePoint t) {
  const std::time_t secs = static_cast<std::time_t>(to_epoch_seconds(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Error usage_error(std::string message) { return Error(ErrorCode::invalid_argument, std::move(message)); }

// Options that take a value: --table T, --user U, --tag K=V.
Status take_option(const std::vector<std::string>& args, std::size_t& i, Command& c) {
  const std::string& flag = args[i];
  if (flag == "--pitr") {
    c.point_in_time_recovery = true;
    return {};
  }
  if (i + 1 >= args.size()) return usage_error(flag + " needs a value");
  const std::string& value = args[++i];
  if (flag == "--table") {
    c.table = value;
  } else if (flag == "--user") {
    c.user = value;
  } else if (flag == "--tag") {
    const auto eq = value.find('=');
    if (eq == std::string::npos || eq == 0) return usage_error("--tag takes KEY=VALUE");
    c.tags.emplace_back(value.substr(0, eq), value.substr(eq + 1));
  } else {
    return usage_error("unknown option " + flag);
  }
  return {};
}

std::shared_ptr<DynamoSessionStore> store_for(const Command& c, const std::shared_ptr<ddb::Client>& client) {
  DynamoSessionStoreOptions o;
  o.table_name = c.table;
  o.client = client;
  o.create_table = false;
  return std::make_shared<DynamoSessionStore>(o);
}

Status create_table(const Command& c, ddb::Client& client, std::ostream& out) {
  dynamo::TableSetup setup{c.table, true, std::chrono::milliseconds(500), 120,
                           [](std::string_view m) { std::fprintf(stderr, "sessionctl: %.*s\n", static_cast<int>(m.size()), m.data()); }};
  if (auto st = run_blocking([&] { return dynamo::co_prepare_table(client, setup); }); !st) return st;
  if (c.point_in_time_recovery) {
    ddb::UpdateContinuousBackupsRequest pitr{c.table, true};
    if (auto r = client.update_continuous_backups(pitr); !r) {
      return Error(r.error().code, "cannot turn on point-in-time recovery: " + r.error().message);
    }
  }
  if (!c.tags.empty()) {
    auto d = client.describe_table({c.table});
    if (!d) return std::move(d).error();
    ddb::TagResourceRequest tag;
    tag.resource_arn = d->table.table_arn;
    for (const auto& [k, v] : c.tags) tag.tags.push_back({k, v});
    if (auto r = client.tag_resource(tag); !r) return Error(r.error().code, "cannot tag the table: " + r.error().message);
  }
  out << "table " << c.table << " is ready\n";
  return {};
}

Status check_table(const Command& c, ddb::Client& client, std::ostream& out) {
  auto d = client.describe_table({c.table});
  if (!d) return std::move(d).error();
  std::vector<std::string> problems;
  if (auto st = dynamo::check_schema(c.table, d->table); !st) problems.push_back(st.error().message);
  if (!d->table.billing_mode.empty() && d->table.billing_mode != "PAY_PER_REQUEST") {
    problems.push_back("billing mode is " + d->table.billing_mode + "; websession creates on-demand (PAY_PER_REQUEST) tables");
  }
  auto ttl = client.describe_time_to_live({c.table});
  if (!ttl) {
    problems.push_back("cannot read the TTL setting: " + ttl.error().message);
  } else if (ttl->status != "ENABLED" || ttl->attribute_name != dynamo::kExpires) {
    problems.push_back("TTL is " + (ttl->status.empty() ? std::string("unknown") : ttl->status) +
                       "; it should be ENABLED on '" + dynamo::kExpires + "'");
  }
  for (const std::string& p : problems) out << "problem: " << p << '\n';
  if (!problems.empty()) {
    return Error(ErrorCode::invalid_argument,
                 "table " + c.table + " has " + std::to_string(problems.size()) + " problem(s)");
  }
  out << "table " << c.table << " is ready: key schema, billing and TTL as websession expects\n";
  return {};
}

Status list_user(const Command& c, const std::shared_ptr<ddb::Client>& client, std::ostream& out) {
  auto sessions = store_for(c, client)->list_owner_sessions(c.user);
  if (!sessions) return std::move(sessions).error();
  for (const OwnerSession& s : *sessions) {
    out << "created=" << iso8601(s.created) << " last_seen=" << iso8601(s.last_seen)
        << " expires=" << iso8601(s.expires) << " absolute_expires=" << iso8601(s.absolute_expires)
        << " user_agent=\"" << s.user_agent << "\"\n";
  }
  return {};
}

Status revoke_user(const Command& c, const std::shared_ptr<ddb::Client>& client, std::ostream& out) {
  auto revoked = store_for(c, client)->destroy_owner_sessions(c.user);
  if (!revoked) return std::move(revoked).error();
  out << "revoked " << *revoked << '\n';
  return {};
}

Status stats(const Command& c, ddb::Client& client, std::ostream& out) {
  TableStats s;
  const std::int64_t now = to_epoch_seconds(system_now());
  ddb::ScanRequest scan;
  scan.table_name = c.table;
  for (;;) {
    auto page = client.scan(scan);
    if (!page) return std::move(page).error();
    for (const auto& item : page->items) count_item(item, now, s);
    if (!page->last_evaluated_key) break;
    scan.exclusive_start_key = std::move(page->last_evaluated_key);
  }
  out << "live_sessions " << s.live_sessions << "\nexpired_sessions " << s.expired_sessions << "\nrevoked "
      << s.revoked << "\nusers " << s.users << "\nother_items " << s.other_items << "\nbytes " << s.bytes << '\n';
  return {};
}

std::size_t attribute_size(const ddb::AttributeValue& v) {
  switch (v.type()) {
    case ddb::AttributeType::S: return v.as_string().size();
    case ddb::AttributeType::N: return (v.as_number().size() + 1) / 2 + 1;
    case ddb::AttributeType::B: return v.as_binary().size();
    case ddb::AttributeType::BOOL:
    case ddb::AttributeType::NUL: return 1;
    case ddb::AttributeType::M: {
      std::size_t n = 3;
      for (const auto& [k, e] : v.as_map()) n += 1 + k.size() + attribute_size(e);
      return n;
    }
    case ddb::AttributeType::L: {
      std::size_t n = 3;
      for (const auto& e : v.as_list()) n += 1 + attribute_size(e);
      return n;
    }
    default: {
      std::size_t n = 0;
      const auto& set = v.is_string_set() ? v.as_string_set() : v.is_number_set() ? v.as_number_set() : v.as_binary_set();
      for (const auto& e : set) n += e.size();
      return n;
    }
  }
}

}  // namespace

std::string usage() {
  return "usage: sessionctl COMMAND --table TABLE [options]\n"
         "  create-table --table T [--pitr] [--tag KEY=VALUE]...   create the table as the store would\n"
         "  check --table T                                       verify key schema, billing and TTL\n"
         "  list-user --table T --user U                          the user's live sessions, one a line\n"
         "  revoke-user --table T --user U                        end all of the user's sessions\n"
         "  stats --table T                                       live and expired sessions, users, bytes\n"
         "Region, endpoint and credentials come from the AWS_* variables and profiles, as the AWS SDKs read them.\n";
}

Result<Command> parse_command_line(const std::vector<std::string>& args) {
  if (args.empty()) return usage_error("no command given");
  Command c;
  c.name = args[0];
  static const char* kCommands[] = {"create-table", "check", "list-user", "revoke-user", "stats"};
  if (std::find(std::begin(kCommands), std::end(kCommands), c.name) == std::end(kCommands)) {
    return usage_error("unknown command '" + c.name + "'");
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (auto st = take_option(args, i, c); !st) return std::move(st).error();
  }
  if (c.table.empty()) return usage_error(c.name + " needs --table");
  const bool per_user = c.name == "list-user" || c.name == "revoke-user";
  if (per_user && c.user.empty()) return usage_error(c.name + " needs --user");
  if (!per_user && !c.user.empty()) return usage_error(c.name + " takes no --user");
  if (c.name != "create-table" && (c.point_in_time_recovery || !c.tags.empty())) {
    return usage_error("--pitr and --tag go with create-table");
  }
  return c;
}

void count_item(const ddb::AttributeMap& item, std::int64_t now, TableStats& stats) {
  std::size_t size = 0;
  for (const auto& [k, v] : item) size += k.size() + attribute_size(v);
  stats.bytes += static_cast<std::int64_t>(size);
  const auto id = item.find(dynamo::kId);
  const std::string key = id != item.end() && id->second.is_string() ? id->second.as_string() : std::string();
  if (key.rfind("owner#", 0) == 0) {
    for (const auto& [name, value] : item) {
      if (name.rfind("s:", 0) == 0) {
        ++stats.users;
        break;
      }
    }
    return;
  }
  if (key.rfind("sid#", 0) == 0) return;
  if (item.count(dynamo::kRevoked) != 0) {
    ++stats.revoked;
    return;
  }
  const auto expires = item.find(dynamo::kExpires);
  const auto data = item.find(dynamo::kData);
  const auto e = expires != item.end() && expires->second.is_number() ? expires->second.as_int64() : std::nullopt;
  if (!e || data == item.end()) {
    ++stats.other_items;
  } else if (*e > now) {
    ++stats.live_sessions;
  } else {
    ++stats.expired_sessions;
  }
}

Status run(const Command& c, const std::shared_ptr<ddb::Client>& client, std::ostream& out) {
  if (c.name == "create-table") return create_table(c, *client, out);
  if (c.name == "check") return check_table(c, *client, out);
  if (c.name == "list-user") return list_user(c, client, out);
  if (c.name == "revoke-user") return revoke_user(c, client, out);
  return stats(c, *client, out);
}

}  // namespace websession::tools
