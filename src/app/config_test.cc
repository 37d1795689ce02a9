#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tl::app {
namespace {

TEST(ConfigTest, FlagsBeatEnvironmentBeatFileBeatDefaults) {
  auto path = std::filesystem::temp_directory_path() / "thanglong-config-test.toml";
  std::ofstream(path) << "listen = \"127.0.0.1:7000\"\nworkers = 3\ndemo = false\naccess_log = false\n"
                         "database = \"postgresql://tl:hunter2@db:5432/thanglong\"\n";
  setenv("THANGLONG_WORKERS", "5", 1);
  auto c = LoadConfig(path.string(), {{"listen", "0.0.0.0:9000"}});
  unsetenv("THANGLONG_WORKERS");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "0.0.0.0:9000");  // flag
  EXPECT_EQ(c->workers, 5);              // environment
  EXPECT_FALSE(c->demo);                 // file
  EXPECT_EQ(c->data_dir, "./var");       // default
  std::string shown = c->Describe();
  EXPECT_EQ(shown.find("hunter2"), std::string::npos);
  EXPECT_NE(shown.find("***"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(ConfigTest, LeavesOneCoreToTheHandlersAndTheStoreByDefaultWithAtLeastTwoIoThreads) {
  const unsigned cores = std::thread::hardware_concurrency();
  const int expected = cores > 3 ? static_cast<int>(cores) - 1 : 2;
  EXPECT_EQ(Config::Defaults().workers, expected);
  auto c = LoadConfig(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->workers, expected);
  EXPECT_GE(c->workers, 2);
}

TEST(ConfigTest, BadValuesNameTheSetting) {
  auto bad = LoadConfig(std::nullopt, {{"workers", "many"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "workers");
  setenv("THANGLONG_DEMO", "perhaps", 1);
  auto env = LoadConfig(std::nullopt, {});
  unsetenv("THANGLONG_DEMO");
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().field(), "THANGLONG_DEMO");
  auto cache = LoadConfig(std::nullopt, {{"sqlite_writer_cache_mib", "0"}});
  ASSERT_FALSE(cache.ok());
  EXPECT_EQ(cache.status().field(), "sqlite_writer_cache_mib");
  auto unknown = LoadConfig(std::nullopt, {{"colour", "red"}});
  EXPECT_FALSE(unknown.ok());
}

}  // namespace
}  // namespace tl::app
