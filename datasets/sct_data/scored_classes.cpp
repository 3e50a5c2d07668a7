#include "datasets/sct_data/scored_classes.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "datasets/sct_data/args.h"
#include "framework/core/error.h"
#include "framework/core/strings.h"

namespace sct::tools {
namespace {

// One entry of a list: a class index, or a class name when names are known.
int64_t class_of(const std::string& item, const std::string& where, const std::vector<std::string>& names,
                 int64_t num_classes) {
  char* stop = nullptr;
  const long long index = std::strtoll(item.c_str(), &stop, 10);
  if (!item.empty() && *stop == '\0') {
    if (index < 0 || index >= num_classes)
      throw InputError(fmt::format("{}: class {} is outside [0, {}) (--classes)", where, index, num_classes));
    return index;
  }
  const auto it = std::find(names.begin(), names.end(), item);
  if (it == names.end())
    throw InputError(fmt::format("{}: '{}' is neither a class index nor one of the {} class names{}", where, item,
                                 names.size(), names.empty() ? " (no --class-names given)" : ""));
  return it - names.begin();
}

}  // namespace

std::map<std::string, std::string> parse_scored_classes(const std::vector<std::string>& options,
                                                        const std::vector<std::string>& splits) {
  std::map<std::string, std::string> out;
  for (const auto& option : options) {
    const size_t eq = option.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == option.size())
      throw InputError(fmt::format("--scored-classes: expected NAME=labels|I,J,...|@FILE, found '{}'", option));
    const std::string name = option.substr(0, eq);
    if (std::find(splits.begin(), splits.end(), name) == splits.end())
      throw InputError(fmt::format("--scored-classes {}: no split '{}' is written (splits: {})", option, name,
                                   join(splits, ", ")));
    if (!out.emplace(name, option.substr(eq + 1)).second)
      throw InputError(fmt::format("--scored-classes: split '{}' given twice", name));
  }
  return out;
}

std::vector<int64_t> resolve_scored_classes(const std::string& split, const std::string& spec,
                                            const std::vector<int64_t>* labels,
                                            const std::vector<std::string>& class_names, int64_t num_classes) {
  const std::string where = fmt::format("--scored-classes {}={}", split, spec);
  std::vector<int64_t> classes;
  if (spec == "labels") {
    if (!labels) throw InputError(fmt::format("{}: this command has no labels to take the classes from", where));
    const std::set<int64_t> present(labels->begin(), labels->end());
    classes.assign(present.begin(), present.end());
  } else {
    for (const auto& item : parse_name_list(spec)) classes.push_back(class_of(item, where, class_names, num_classes));
  }
  if (classes.empty()) throw InputError(fmt::format("{}: no classes listed", where));
  std::sort(classes.begin(), classes.end());
  for (size_t i = 1; i < classes.size(); ++i)
    if (classes[i] == classes[i - 1])
      throw InputError(fmt::format("{}: class {} is listed twice", where, classes[i]));
  return classes;
}

}  // namespace sct::tools
