#include "harness/report/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "harness/core/error.h"

namespace sb {

TEST(npy, round_trip_keeps_dtype_shape_and_bytes) {
  npy_array a;
  a.descr = "<i8";
  a.shape = {2, 3};
  std::int64_t v[6] = {1, -2, 3, 4, 5, 1LL << 40};
  a.data.assign(reinterpret_cast<char*>(v), reinterpret_cast<char*>(v) + sizeof v);
  std::string p = ::testing::TempDir() + "/rt.npy";
  write_npy(p, a);
  npy_array b = read_npy(p);
  EXPECT_EQ(b.descr, "<i8");
  EXPECT_EQ(b.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(b.data, a.data);
}

TEST(npy, header_is_numpy_v1_and_64_byte_aligned) {
  npy_array a{"<f4", {5}, std::vector<char>(20, 0)};
  std::string p = ::testing::TempDir() + "/h.npy";
  write_npy(p, a);
  std::ifstream f(p, std::ios::binary);
  char head[10];
  f.read(head, 10);
  EXPECT_EQ(std::memcmp(head, "\x93NUMPY\x01\x00", 8), 0);
  std::uint16_t len;
  std::memcpy(&len, head + 8, 2);
  EXPECT_EQ((10 + len) % 64, 0);
  std::string header(len, ' ');
  f.read(header.data(), len);
  EXPECT_NE(header.find("'shape': (5,)"), std::string::npos);  // a 1-tuple keeps its comma
  EXPECT_EQ(header.back(), '\n');
}

TEST(npy, reads_the_golden_files_written_by_numpy) {
  npy_array a = read_npy(std::string(SB_TEST_DATA_DIR) + "/golden/usp_tp2_b1_s16_v70_u2_r1_ttt3/usp_position_ids_r1.npy");
  EXPECT_EQ(a.descr, "<i8");
  ASSERT_EQ(a.shape, (std::vector<std::int64_t>{16}));
}

TEST(npy, rejects_non_npy_and_truncated_files) {
  std::string p = ::testing::TempDir() + "/bad.npy";
  std::ofstream(p) << "not numpy";
  EXPECT_THROW(read_npy(p), runtime_error);
  EXPECT_THROW(read_npy("/nonexistent.npy"), runtime_error);
}

}  // namespace sb
