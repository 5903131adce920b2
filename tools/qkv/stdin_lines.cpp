// read_stdin_lines (commands.h): the commands that read text on stdin
// (translate, bleu, chrf, rouge) split it as the data readers split a file.
#include <iostream>
#include <iterator>

#include "commands.h"
#include "qkv/data/readers.h"

namespace qkv::cli {

std::vector<std::string> read_stdin_lines() {
  std::ios::sync_with_stdio(false);
  const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return data::split_lines(text, "stdin");
}

}  // namespace qkv::cli
