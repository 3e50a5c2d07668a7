// The sct_data subcommands; main dispatches on the first argument.
#pragma once

#include <string>
#include <vector>

namespace sct::tools {

using Argv = std::vector<std::string>;

struct Subcommand {
  const char* name;
  const char* usage;
  const char* summary;
  int (*fn)(const Argv& args);
};

int cmd_convert_vtab(const Argv& args);
int cmd_convert_list(const Argv& args);
int cmd_convert_idx(const Argv& args);
int cmd_fmnist_bench(const Argv& args);
int cmd_synth(const Argv& args);
int cmd_inspect(const Argv& args);
int cmd_validate(const Argv& args);

}  // namespace sct::tools
