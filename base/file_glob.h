// Glob patterns of config file lists (rule_files, file_sd_configs files):
// shell-style globs, matches sorted, a pattern matching nothing adds nothing.
#pragma once

#include <string>
#include <vector>

namespace vigil {

std::vector<std::string> ExpandGlobs(const std::vector<std::string>& patterns);

}  // namespace vigil
