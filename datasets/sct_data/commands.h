// The sct_data subcommands: the typed options each one takes (initial values are the defaults
// --help shows) and their entry points. The table and the parsing are in args.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/sct_data/fmnist_bench.h"

namespace sct::tools {

// What every converter (convert-vtab, convert-list, convert-idx) takes.
struct TaskFileOptions {
  std::string output;
  std::string task;
  int64_t classes = 0;      // 0: convert-vtab takes the VTAB-1k table's
  int64_t size = 224;       // square images; 0 (convert-idx): the images' own size
  std::string group;        // empty: convert-vtab takes the VTAB-1k table's
  std::string class_names;  // "a,b,..." or "@FILE"; empty: none
  int compress = 0;         // gzip level of the images
  int threads = 0;          // 0: all cores
};

struct ConvertVtabOptions {
  TaskFileOptions file;
  std::string root;
  std::string splits;  // "a,b,..."; empty: every split with a list file
};

struct ConvertListOptions {
  TaskFileOptions file;
  std::vector<std::string> splits;  // NAME=LISTFILE
  std::string root;                 // empty: each list file's folder
  std::string source = "list files";
  std::vector<std::string> scored_classes;  // NAME=labels|I,J,...|@FILE (scored_classes.h)
};

struct ConvertIdxOptions {
  ConvertIdxOptions() { file.size = 0; }
  TaskFileOptions file;
  std::vector<std::string> splits;  // NAME=IMAGES,LABELS[,BEGIN:END]
};

struct SynthOptions {
  std::string output;
  int64_t classes = 0, size = 0;    // both required
  std::vector<std::string> splits;  // NAME=COUNT
  std::vector<std::string> scored_classes;  // NAME=I,J,...|@FILE: labels drawn from these only
  uint64_t seed = 0;
  std::string task = "synth", group = "Synthetic";
  int threads = 0;  // 0: all cores
};

struct FmnistOptions {
  data::fmnist::BenchOptions bench;
  std::string tasks;  // "a,b,..." or "@FILE"; empty: every task
};

struct InspectOptions {
  std::string file;
  std::string split;  // empty: every split
};

struct ValidateOptions {
  std::string file;
};

struct HelpOptions {
  std::string command;  // empty: the program's help
};

// Everything one sct_data command line can set; a command reads its own part.
struct DataCommandLine {
  bool version = false;
  ConvertVtabOptions convert_vtab;
  ConvertListOptions convert_list;
  ConvertIdxOptions convert_idx;
  FmnistOptions fmnist_bench;
  SynthOptions synth;
  InspectOptions inspect;
  ValidateOptions validate;
  HelpOptions help;
};

int cmd_convert_vtab(const DataCommandLine& line);
int cmd_convert_list(const DataCommandLine& line);
int cmd_convert_idx(const DataCommandLine& line);
int cmd_fmnist_bench(const DataCommandLine& line);
int cmd_synth(const DataCommandLine& line);
int cmd_inspect(const DataCommandLine& line);
int cmd_validate(const DataCommandLine& line);
int cmd_help(const DataCommandLine& line);
int cmd_version(const DataCommandLine& line);

}  // namespace sct::tools
