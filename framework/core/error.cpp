#include "framework/core/error.h"

namespace sct {

void throw_check_failure(const char* expr, const char* file, int line, const std::string& detail) {
  std::string msg = std::string("internal check failed: ") + expr + " at " + file + ":" +
                    std::to_string(line);
  if (!detail.empty()) msg += ": " + detail;
  throw Error(msg);
}

}  // namespace sct
