// numpy's .npy format (version 1.0), written and read by our own small code: enough for the dumps
// (`run --dump`) and for reading the golden cases. Little-endian, C order.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb {

struct npy_array {
  std::string descr;                // '<f4', '<f2', '<i4', '<i8'
  std::vector<std::int64_t> shape;  // empty for a scalar
  std::vector<char> data;

  std::int64_t elements() const;
};

void write_npy(const std::string& path, const npy_array& a);  // throws runtime_error
npy_array read_npy(const std::string& path);                   // throws runtime_error
npy_array parse_npy(std::string_view bytes, const std::string& name);  // a file's bytes; throws runtime_error

}  // namespace sb
