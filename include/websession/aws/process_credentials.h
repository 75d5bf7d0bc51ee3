// credential_process: credentials printed by a command the profile names, as the AWS CLI and SDKs
// run it.
//
//   [profile vault]
//   credential_process = /usr/local/bin/vault-aws-creds --role sessions
//
// The command prints, on standard output:
//   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...", "SessionToken": "...",
//    "Expiration": "2030-01-01T00:00:00Z"}
// (SessionToken and Expiration optional: without Expiration the credentials are kept for ever).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websession/async.h"
#include "websession/aws/credentials.h"
#include "websession/result.h"

namespace websession::aws {

/// Splits a command line into its arguments as a POSIX shell would when there is nothing to
/// expand: blanks separate words; single quotes keep everything; double quotes keep everything
/// but `\"`, `\\`; a backslash outside quotes keeps the next character. nullopt when the line needs
/// a shell: unbalanced quotes, an unquoted `| & ; < > ( ) * ? [ ~ # ! { }`, a newline, `$` or a
/// backquote anywhere outside single quotes, or a variable assignment as the first word.
[[nodiscard]] std::optional<std::vector<std::string>> split_command(std::string_view command);

/// Parses a credential_process's output: a JSON object with "Version": 1, AccessKeyId,
/// SecretAccessKey and the optional SessionToken and Expiration (ISO 8601). permission_denied for
/// anything else (the message never quotes the output).
[[nodiscard]] Result<Credentials> parse_process_output(std::string_view json);

/// Runs a profile's credential_process and reads its output. The command runs without a shell
/// (found on PATH) when split_command() can split it, else with /bin/sh -c, as the SDKs on Unix
/// do; in its own process group, with standard input from /dev/null and standard error inherited
/// (it never enters an error message). Asynchronous in co_credentials(): the output is read and
/// the exit awaited on the caller's executor. Not cached by itself.
///
/// Errors: permission_denied when the command cannot start, exits non-zero or by a signal, prints
/// something that parse_process_output() refuses, or credentials that have already expired;
/// unavailable when it does not finish within `timeout` (it is then killed, with its process
/// group). Messages never contain the command line, its output or its standard error.
class ProcessCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ProcessCredentialsProvider(std::string command,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                      SystemClock clock = {});
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "process"; }

 private:
  std::string command_;
  std::chrono::milliseconds timeout_;
  SystemClock clock_;
};

}  // namespace websession::aws
