// `--scored-classes NAME=SPEC`: the classes a split is scored over (its 'classes' attribute,
// framework/data/task_format.h), as the ImageNet-A and -R benchmarks score over their 200 of
// ImageNet's 1000 classes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sct::tools {

// The options by split name. InputError for a malformed option, a split given twice, or a
// split that is not among `splits` (the ones being written).
std::map<std::string, std::string> parse_scored_classes(const std::vector<std::string>& options,
                                                        const std::vector<std::string>& splits);

// SPEC for one split, ascending. SPEC is
//   labels        the distinct labels of the split (derived from the data: a split that holds
//                 every class it is scored over, as ImageNet-A and -R do)
//   I,J,...       class indices
//   @FILE         one class per line: an index, or a name from `class_names` (e.g. a wnid,
//                 so `ls imagenet-a > a.txt` lists ImageNet-A's classes)
// `labels` is empty where the split's labels are not known yet (synth), and "labels" is then
// refused. InputError naming the option for an unknown name, an index out of range, a class
// listed twice or an empty list.
std::vector<int64_t> resolve_scored_classes(const std::string& split, const std::string& spec,
                                            const std::vector<int64_t>* labels,
                                            const std::vector<std::string>& class_names, int64_t num_classes);

}  // namespace sct::tools
