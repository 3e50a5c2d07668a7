// Small string helpers: edit distance and closest-match suggestions, hashing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sct {

size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close enough to be a plausible typo.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

uint64_t fnv1a64(std::string_view data, uint64_t seed = 14695981039346656037ull);
std::string hex64(uint64_t v);

std::string join(const std::vector<std::string>& parts, std::string_view sep);

}  // namespace sct
