// Error types shared by every module, and the check macro that names the failed call.
#pragma once

#include <stdexcept>
#include <string>

namespace sct {

// Process exit codes. Bad input of any kind (recipe, command line, data files) exits with 2.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,
  kExitBadInput = 2,
  kExitPreempted = 3,  // checkpointed on a signal; the job should be requeued
};

// Base of all sct errors. `exit_code()` tells main what to return.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, int exit_code = kExitFailure)
      : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Bad input from the user: recipe, command line, data or checkpoint file. Message should name
// the file (and line or key/tensor), what was expected and what was found.
class InputError : public Error {
 public:
  explicit InputError(const std::string& what) : Error(what, kExitBadInput) {}
};

[[noreturn]] void throw_check_failure(const char* expr, const char* file, int line,
                                      const std::string& detail);

}  // namespace sct

// Internal invariant check: throws sct::Error naming the expression and file:line.
#define SCT_CHECK(cond, detail)                                         \
  do {                                                                  \
    if (!(cond)) ::sct::throw_check_failure(#cond, __FILE__, __LINE__, (detail)); \
  } while (0)
