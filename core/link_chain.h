// Following a library name through its symbolic links the way open(2) does, keeping every hop, so that
// a report can say "libcudart.so.12 -> libcudart.so.12.8.90 -> (missing)" instead of "not found", and
// tell a link that reaches one of vgpu's shims from one that reaches NVIDIA's library or nothing.
#pragma once

#include <string>
#include <vector>

#include "result.h"

namespace vgpu {

enum class LinkEnd {
  file,       // ends at a regular file
  missing,    // the path (or a hop) does not exist: a dangling link when hops is not empty
  loop,       // the chain comes back on itself, or is longer than the kernel allows (ELOOP)
  not_file,   // ends at a directory or device
};

struct LinkChain {
  std::string start;               // the path asked about
  std::vector<std::string> hops;   // each link's target as written, absolute-ized, in order
  std::string final_path;          // the last path reached
  LinkEnd end = LinkEnd::missing;
};

// Follows `path` link by link (at most 40 hops, as Linux's MAXSYMLINKS). Never fails: what went wrong
// is in `end`.
LinkChain follow_links(const std::string& path);

// "a -> b -> c" for reports; a missing end reads "(missing)", a loop "(loop)".
std::string describe(const LinkChain& chain);

// The paths glob(3) matches for `pattern`, sorted; none when nothing matches.
std::vector<std::string> glob_files(const std::string& pattern);

}  // namespace vgpu
