// What a unit reads, identified by content: the task file's checksum and the backbone
// checkpoint's. Stored beside the recipe hash (unit_dir/inputs.json, written when the unit
// starts), so resuming a started or finished unit over a changed file is refused instead of
// mixing results. The recipe hash itself stays what it is.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "framework/core/recipe.h"

namespace sct::sweep {

struct UnitInputs {
  std::string data;               // task.data
  std::string data_checksum;      // task_file_checksum(data)
  std::string backbone;           // model.checkpoint, "" for a random initialisation
  std::string backbone_checksum;  // file_checksum(backbone), "" without one
};

// CRC-32 of the whole file ("crc32:xxxxxxxx"), computed once per process for each (path, inode,
// size, modification time). InputError naming the file when it cannot be read.
std::string file_checksum(const std::string& path);

// The task file's checksum from its stored checksums (the file's, else the splits' combined),
// which `run` verifies against the content of every split it reads; computed from the content
// only for a file that stores none. Cached like file_checksum.
std::string task_file_checksum(const std::string& path);

// The checksums of the recipe's task file and backbone (InputError when one cannot be read).
UnitInputs unit_inputs(const Recipe& recipe);

std::string inputs_path(const std::string& unit_dir);  // unit_dir/inputs.json
nlohmann::json to_json(const UnitInputs& inputs);

// "" when the inputs recorded in `stored` (an inputs.json) are the ones of `now`, else why not,
// naming the file: "the task file X changed since the unit started (crc32:a then, crc32:b now)".
// An input that `stored` does not record is not compared.
std::string inputs_changed(const nlohmann::json& stored, const UnitInputs& now);

// The reason for unit_dir's recorded inputs against `recipe`'s files now, or "" when they are the
// same, nothing is recorded, or a file cannot be read now (the unit's own run reports that).
std::string recorded_inputs_changed(const std::string& unit_dir, const Recipe& recipe);

}  // namespace sct::sweep
