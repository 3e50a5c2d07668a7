// Test helpers for command tables: the option entries of a --help text, and the checks both
// tables get (every misuse worded as expected; every option's default in --help).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "framework/app/cli.h"

namespace sct::testing {

// One entry per option line ("  --batch N   images per forward pass (default: 32)"); CLI11
// puts the description of a long option on the next line, which is joined here. -h/--help is
// left out.
std::vector<std::string> option_entries(const std::string& help);

// Empty when every entry states a default or is REQUIRED, else the first one that does not.
std::string entry_without_default(const std::string& help);

using Misuse = std::vector<std::pair<std::vector<std::string>, std::string>>;  // args, message

// Each command line of `cases` is an error with exactly its message, on one line.
template <typename Parse>
void expect_errors(const Misuse& cases, Parse parse) {
  for (const auto& [args, expected] : cases) {
    const auto parsed = parse(args);
    EXPECT_EQ(parsed.kind, cli::Parsed::Kind::kError) << expected;
    EXPECT_EQ(parsed.text, expected);
    EXPECT_EQ(parsed.text.find('\n'), std::string::npos) << parsed.text;
  }
}

// The program's help lists every row, and each row's help gives every option a default.
template <typename Rows, typename HelpOf>
void expect_table_help(const Rows& rows, HelpOf help_of) {
  const std::string top = help_of(nullptr);
  EXPECT_EQ(entry_without_default(top), "") << top;
  for (const auto& row : rows) {
    EXPECT_NE(top.find(std::string("  ") + row.name + " "), std::string::npos) << row.name;
    const std::string text = help_of(&row);
    EXPECT_EQ(entry_without_default(text), "") << row.name << " --help:\n" << text;
  }
}

}  // namespace sct::testing
