#include "modules/mqtt_ingest/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tl::mqtt_ingest {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "thanglong-journal.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Journal> Open(uint64_t segment_bytes = 16u << 20) {
    auto j = Journal::Open(dir_.string(), segment_bytes);
    EXPECT_TRUE(j.ok()) << j.status().message();
    return j.ok() ? std::move(*j) : nullptr;
  }
  std::vector<std::string> Payloads(const Journal& j) {
    std::vector<std::string> out;
    for (const auto& e : j.Unapplied()) out.push_back(e.payload);
    return out;
  }
  std::vector<fs::path> Segments() {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".seg") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(JournalTest, WhatWasNotMarkedAppliedComesBackInOrder) {
  std::vector<Journal::Position> at;
  {
    auto j = Open();
    EXPECT_TRUE(j->Unapplied().empty());
    for (int i = 0; i < 5; ++i) {
      auto p = j->Append("devices/d" + std::to_string(i) + "/measurements", "{\"v\":" + std::to_string(i) + "}");
      ASSERT_TRUE(p.ok());
      at.push_back(*p);
    }
    ASSERT_TRUE(j->MarkApplied(at[1]).ok());  // the first two are applied
  }                                           // the process "dies": nothing else is written
  auto j = Open();
  ASSERT_EQ(j->Unapplied().size(), 3u);
  EXPECT_EQ(j->Unapplied()[0].topic, "devices/d2/measurements");
  EXPECT_EQ(Payloads(*j), (std::vector<std::string>{"{\"v\":2}", "{\"v\":3}", "{\"v\":4}"}));
  // Once those are applied, a further start finds nothing, and the old segment is gone.
  ASSERT_TRUE(j->MarkRecoveredApplied().ok());
  ASSERT_TRUE(j->Append("t", "after").ok());
  EXPECT_EQ(Segments().size(), 1u);
  j.reset();
  auto again = Open();
  EXPECT_EQ(Payloads(*again), std::vector<std::string>{"after"});
}

TEST_F(JournalTest, ATornLastRecordIsDroppedAndTheRestKept) {
  {
    auto j = Open();
    ASSERT_TRUE(j->Append("a", std::string(100, 'x')).ok());
    ASSERT_TRUE(j->Append("b", std::string(100, 'y')).ok());
    ASSERT_TRUE(j->Append("c", std::string(100, 'z')).ok());
  }
  auto segments = Segments();
  ASSERT_EQ(segments.size(), 1u);
  fs::resize_file(segments[0], fs::file_size(segments[0]) - 7);  // died inside the third write
  auto j = Open();
  ASSERT_EQ(j->Unapplied().size(), 2u);
  EXPECT_EQ(j->Unapplied()[1].topic, "b");
  // A flipped byte inside a record is caught by its checksum: that record and what follows is dropped.
  j.reset();
  {
    std::fstream f(segments[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8 + 4 + 1 + 10);  // inside the first payload
    f.put('Q');
  }
  auto damaged = Open();
  EXPECT_TRUE(damaged->Unapplied().empty());
}

TEST_F(JournalTest, SegmentsRollOverAndGoOnceApplied) {
  auto j = Open(4096);
  Journal::Position last;
  for (int i = 0; i < 200; ++i) {
    auto p = j->Append("topic", std::string(200, static_cast<char>('a' + i % 26)));
    ASSERT_TRUE(p.ok());
    last = *p;
  }
  EXPECT_GE(Segments().size(), 9u);  // 200 records of ~220 bytes in segments of 4 KiB
  EXPECT_EQ(j->live_segments(), static_cast<int64_t>(Segments().size()));
  ASSERT_TRUE(j->MarkApplied(last).ok());
  EXPECT_EQ(Segments().size(), 1u);  // the current one stays
  j.reset();
  EXPECT_TRUE(Open(4096)->Unapplied().empty());
}

TEST_F(JournalTest, ADamagedMarkReplaysEverything) {
  {
    auto j = Open();
    auto p = j->Append("t", "one");
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(j->Append("t", "two").ok());
    ASSERT_TRUE(j->MarkApplied(*p).ok());
  }
  {
    std::ofstream mark(dir_ / "applied.mark", std::ios::binary | std::ios::trunc);
    mark << "garbage that is not a mark";
  }
  // At least once: applying a message twice is an update, losing one is not allowed.
  EXPECT_EQ(Payloads(*Open()), (std::vector<std::string>{"one", "two"}));
}

TEST_F(JournalTest, AMarkNeverMovesBack) {
  auto j = Open();
  auto first = j->Append("t", "one");
  auto second = j->Append("t", "two");
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE(j->MarkApplied(*second).ok());
  ASSERT_TRUE(j->MarkApplied(*first).ok());  // late and older: ignored
  j.reset();
  EXPECT_TRUE(Open()->Unapplied().empty());
}

}  // namespace
}  // namespace tl::mqtt_ingest
