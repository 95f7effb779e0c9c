// What a run may write and how: only a regular file (or nothing) is replaced, never a folder,
// device, FIFO or the config; the temporary file is the process's own; a results file is locked by
// its run; an earlier run's results do not survive as the new run's.
#include "harness/report/output_file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "harness/core/error.h"

namespace sb {

namespace {

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "/output_file_" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(output_file, only_a_regular_file_or_nothing_is_replaced) {
  const std::string dir = fresh_dir("kinds");
  EXPECT_EQ(error_of([] { require_output_file("/dev/null", "--out"); }),
            "--out /dev/null: is a device; only a regular file may be replaced");
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0644), 0);
  EXPECT_EQ(error_of([&] { require_output_file(dir + "/fifo", "--trace"); }),
            "--trace " + dir + "/fifo: is a FIFO; only a regular file may be replaced");
  std::filesystem::create_directories(dir + "/folder");
  EXPECT_EQ(error_of([&] { require_output_file(dir + "/folder", "--out"); }),
            "--out " + dir + "/folder: is a folder; only a regular file may be replaced");
  EXPECT_EQ(error_of([&] { require_output_file(dir + "/e/", "--out"); }), "--out " + dir + "/e/: names a folder; give a file name");
  write(dir + "/c.yaml", "name: x\n");
  EXPECT_EQ(error_of([&] { require_output_file(dir + "/./c.yaml", "--out", {dir + "/c.yaml"}); }),
            "--out " + dir + "/./c.yaml: is the config this run reads");
  write(dir + "/old.json", "{}");
  EXPECT_EQ(error_of([&] { require_output_file(dir + "/old.json", "--out"); }), "");
  EXPECT_EQ(error_of([&] { require_output_file(dir + "/new/r.json", "--out"); }), "");  // its folder is made
  EXPECT_EQ(error_of([] { require_output_file("/proc/x.json", "--benchmark_out"); }).rfind("--benchmark_out /proc/x.json: ", 0), 0u);
  for (const auto& e : std::filesystem::directory_iterator(dir))  // the probes are gone
    EXPECT_EQ(e.path().filename().string().find(".probe."), std::string::npos);
}

TEST(output_file, a_dump_folder_must_take_files) {
  const std::string dir = fresh_dir("dump");
  EXPECT_EQ(error_of([&] { require_output_folder(dir + "/npy", "--dump"); }), "");
  write(dir + "/file", "x");
  EXPECT_EQ(error_of([&] { require_output_folder(dir + "/file", "--dump"); }), "--dump " + dir + "/file: exists and is not a folder");
  EXPECT_EQ(error_of([] { require_output_folder("/proc/self/npy", "--dump"); }).rfind("--dump /proc/self/npy: cannot make its folder", 0),
            0u);
  if (::geteuid() != 0) {  // root writes into a folder whatever its mode
    std::filesystem::create_directories(dir + "/ro");
    ::chmod((dir + "/ro").c_str(), 0555);
    EXPECT_EQ(error_of([&] { require_output_folder(dir + "/ro", "--dump"); }).rfind("--dump " + dir + "/ro: its folder takes no new file", 0),
              0u);
  }
}

TEST(output_file, outputs_must_be_different_files) {
  const std::string dir = fresh_dir("distinct");
  EXPECT_EQ(error_of([&] { require_distinct_outputs({{"--out", dir + "/a.json"}, {"--trace", dir + "/./a.json"}}); }),
            "--out and --trace name the same file " + dir + "/a.json");
  EXPECT_EQ(error_of([&] { require_distinct_outputs({{"--out", dir + "/a.json"}, {"--trace", ""}}); }), "");
}

// The temporary file is this process's own: an existing <name>.tmp (even a folder) is not touched.
TEST(output_file, the_temporary_file_is_the_processs_own) {
  const std::string dir = fresh_dir("tmp");
  std::filesystem::create_directories(dir + "/r.json.tmp/inside");
  write_file_atomically(dir + "/r.json", "{}\n");
  EXPECT_EQ(read(dir + "/r.json"), "{}\n");
  EXPECT_TRUE(std::filesystem::exists(dir + "/r.json.tmp/inside"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/r.json.tmp." + std::to_string(::getpid())));
  std::filesystem::create_directories(dir + "/d");
  try {
    write_file_atomically(dir + "/d", "{}");  // over a folder: the rename fails, with its reason
    FAIL();
  } catch (const runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + dir + "/d: Is a directory");
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/d.tmp." + std::to_string(::getpid())));
}

TEST(output_file, the_per_point_file_is_never_the_results_file) {
  const std::string dir = fresh_dir("jsonl");
  EXPECT_EQ(error_of([&] { results_files f(dir + "/x.jsonl", {}); }),
            "--out " + dir + "/x.jsonl: the per-point file would be the results file itself; name the results *.json");
  EXPECT_EQ(jsonl_path_for("results/x.json"), "results/x.jsonl");
}

// A run starting where an earlier one wrote leaves nothing that presents the earlier results as its
// own: the per-point file starts empty and the earlier final file is gone until the run writes its.
TEST(output_file, an_earlier_runs_results_do_not_pass_for_the_new_runs) {
  const std::string dir = fresh_dir("earlier");
  write(dir + "/r.json", "{\"points\": [\"old\"]}\n");
  write(dir + "/r.jsonl", "{\"old\": 1}\n");
  {
    results_files f(dir + "/r.json", {});
    EXPECT_FALSE(std::filesystem::exists(dir + "/r.json"));
    EXPECT_EQ(read(dir + "/r.jsonl"), "");
    f.append_line("{\"new\": 1}");
  }
  EXPECT_EQ(read(dir + "/r.jsonl"), "{\"new\": 1}\n");
}

// A second run on the same --out is refused at once, naming the process that holds it.
TEST(output_file, a_results_file_is_locked_by_its_run) {
  const std::string dir = fresh_dir("lock");
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the first run: takes the files, says so, waits to be told to finish
    results_files f(dir + "/r.json", {});
    char c = 1;
    (void)!::write(ready[1], &c, 1);
    (void)!::read(done[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  EXPECT_EQ(error_of([&] { results_files f(dir + "/r.json", {}); }),
            "--out " + dir + "/r.json: another run is writing it (process " + std::to_string(child) +
                "); wait for it or choose another --out");
  (void)!::write(done[1], &c, 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_EQ(error_of([&] { results_files f(dir + "/r.json", {}); }), "");  // released with its run
}

}  // namespace sb
