#include "support/text_fixtures.h"

#include <fstream>
#include <sstream>
#include <vector>

namespace qkv::testing {

std::map<std::string, Tensor> load_text_fixtures(const std::string& path) {
  std::map<std::string, Tensor> out;
  std::ifstream f(path);
  if (!f) throw IOError("cannot open " + path);
  std::string line;
  int lineno = 0;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    std::string name, kind, colon;
    int64_t nd = 0;
    is >> name >> kind >> nd;
    Shape s(nd);
    for (auto& d : s) is >> d;
    is >> colon;
    if (!is || colon != ":") throw IOError(path + ":" + std::to_string(lineno) + ": malformed header");
    const int64_t n = shape_numel(s);
    if (kind == "f32") {
      std::vector<float> v(n);
      for (auto& x : v) is >> x;
      if (!is) throw IOError(path + ":" + std::to_string(lineno) + ": too few values");
      out[name] = tensor(v, s);
    } else {
      std::vector<int64_t> v(n);
      for (auto& x : v) is >> x;
      if (!is) throw IOError(path + ":" + std::to_string(lineno) + ": too few values");
      Tensor t = tensor_i64(v, s);
      out[name] = kind == "bool" ? t.to(DType::Bool) : t;
    }
  }
  return out;
}

}  // namespace qkv::testing
