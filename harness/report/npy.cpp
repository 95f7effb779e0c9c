#include "harness/report/npy.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "harness/core/error.h"

namespace sb {

std::int64_t npy_array::elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

namespace {
std::size_t descr_size(const std::string& d) {
  if (d == "<f4" || d == "<i4") return 4;
  if (d == "<f2" || d == "<u2") return 2;
  if (d == "<i8" || d == "<f8") return 8;
  throw_runtime("npy: unsupported dtype " + d);
}
}  // namespace

void write_npy(const std::string& path, const npy_array& a) {
  std::string dims;
  for (std::size_t i = 0; i < a.shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(a.shape[i]);
  if (a.shape.size() == 1) dims += ",";  // numpy writes (3,) but (3, 4)
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", a.descr, dims);
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (std::size_t(a.elements()) * descr_size(a.descr) != a.data.size())
    throw_runtime(fmt::format("npy: {} bytes of data do not match the shape", a.data.size()));
  std::ofstream f(path, std::ios::binary);
  if (!f) throw_runtime("cannot write " + path);
  const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  f.write(magic, 8);
  std::uint16_t len = std::uint16_t(header.size());
  f.write(reinterpret_cast<const char*>(&len), 2);
  f.write(header.data(), std::streamsize(header.size()));
  f.write(a.data.data(), std::streamsize(a.data.size()));
  if (!f) throw_runtime("write failed: " + path);
}

npy_array parse_npy(std::string_view bytes, const std::string& name) {
  auto need = [&](std::size_t n, std::size_t at) {
    if (bytes.size() < at + n) throw_runtime(name + ": truncated");
  };
  need(8, 0);
  if (std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0) throw_runtime(name + " is not a .npy file");
  std::size_t len = 0, at = 8;
  if (bytes[6] == 1) {
    need(2, at);
    std::uint16_t l;
    std::memcpy(&l, bytes.data() + at, 2);
    len = l;
    at += 2;
  } else {
    need(4, at);
    std::uint32_t l;
    std::memcpy(&l, bytes.data() + at, 4);
    len = l;
    at += 4;
  }
  need(len, at);
  const std::string header(bytes.substr(at, len));
  at += len;
  std::smatch m;
  npy_array a;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'"))) throw_runtime(name + ": no descr");
  a.descr = m[1];
  if (header.find("'fortran_order': True") != std::string::npos) throw_runtime(name + ": fortran order unsupported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) throw_runtime(name + ": no shape");
  std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    a.shape.push_back(std::stoll(it->str()));
  const std::size_t n = std::size_t(a.elements()) * descr_size(a.descr);
  need(n, at);
  a.data.assign(bytes.data() + at, bytes.data() + at + n);
  return a;
}

npy_array read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw_runtime("cannot read " + path);
  const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  return parse_npy(bytes, path);
}

}  // namespace sb
