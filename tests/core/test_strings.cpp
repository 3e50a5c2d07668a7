#include <gtest/gtest.h>

#include "framework/core/strings.h"

using namespace sct;

TEST(Strings, EditDistanceCountsTranspositionAsOne) {
  EXPECT_EQ(edit_distance("lr_warmup", "lr_warmup"), 0u);
  EXPECT_EQ(edit_distance("lr_warmpu", "lr_warmup"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Strings, ClosestMatchRejectsUnrelatedWords) {
  std::vector<std::string> keys{"epochs", "lr", "weight_decay", "warmup_epochs"};
  EXPECT_EQ(closest_match("weight_decy", keys), "weight_decay");
  EXPECT_EQ(closest_match("epoch", keys), "epochs");
  EXPECT_EQ(closest_match("completely_unrelated", keys), "");
}

TEST(Strings, Fnv1aMatchesPublishedVectors) {
  // Reference values of 64-bit FNV-1a.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(hex64(0xabcull), "0000000000000abc");
}
