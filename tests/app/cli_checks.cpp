#include "tests/app/cli_checks.h"

#include <sstream>

namespace sct::testing {

std::vector<std::string> option_entries(const std::string& help) {
  std::vector<std::string> lines, entries;
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("  -", 0) != 0 || lines[i].rfind("  -h,--help", 0) == 0) continue;
    std::string entry = lines[i];
    if (i + 1 < lines.size() && lines[i + 1].rfind("      ", 0) == 0) entry += " " + lines[++i];
    entries.push_back(entry);
  }
  return entries;
}

std::string entry_without_default(const std::string& help) {
  for (const auto& entry : option_entries(help))
    if (entry.find("(default: ") == std::string::npos && entry.find(" REQUIRED") == std::string::npos &&
        entry.find("(repeatable; default: ") == std::string::npos)
      return entry;
  return "";
}

}  // namespace sct::testing
