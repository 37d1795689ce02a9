// The one-stop shop's schema upgrades on an embedded store that already holds data: migration 504
// renumbers nothing when it moves notifications off SQLite's AUTOINCREMENT (the product never
// deletes a notification, so the rowid's max + 1 numbers them as AUTOINCREMENT did).
#include <gtest/gtest.h>

#include "modules/dossiers/dossiers.h"
#include "storage/migrations.h"
#include "tests/support/scratch_store.h"

namespace tl::dossiers {
namespace {

TEST(DossierMigrationsTest, NotificationsKeepTheirIdsAndGoOnFromTheLargest) {
  testing::ScratchStore store("sqlite");
  auto db = store.Open();
  ASSERT_NE(db, nullptr);
  auto all = DossierService::Migrations();
  auto before = testing::MigrationsBefore(all, 504);
  ASSERT_LT(before.size(), all.size());
  ASSERT_TRUE(storage::ApplyMigrations(*db, before).ok());
  ASSERT_TRUE(db->Write([](storage::Session& s) -> Status {
    for (int64_t user : {7, 9, 7}) {
      TL_RETURN_IF_ERROR(s.Exec("INSERT INTO notifications (user_id, dossier_code, kind, title, body, created_at) "
                                "VALUES (?, 'UBND00004-261118-0001', 'receive', 'Hồ sơ đã tiếp nhận', 'Đã nhận', 1)",
                                {user})
                             .status());
    }
    return Status::Ok();
  }).ok());
  auto applied = storage::ApplyMigrations(*db, all);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, static_cast<int>(all.size() - before.size()));
  ASSERT_TRUE(db->Write([](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto n, s.Exec("INSERT INTO notifications (user_id, kind, title, body, created_at) "
                                       "VALUES (9, 'return', 'Hồ sơ đã trả kết quả', 'Đã trả', 2)"));
    (void)n;
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(db->Read([](storage::Session& s) -> Status {
    TL_ASSIGN_OR_RETURN(auto rs, s.Query("SELECT id, user_id, title FROM notifications ORDER BY id"));
    std::vector<int64_t> ids;
    for (const auto& r : rs.rows) ids.push_back(r.Int(0));
    EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 4}));  // the copied ones as they were, the new one next
    EXPECT_EQ(rs.rows.at(3).Text(2), "Hồ sơ đã trả kết quả");
    EXPECT_EQ(rs.rows.at(1).Int(1), 9);
    EXPECT_EQ(rs.rows.at(0).Text(2), "Hồ sơ đã tiếp nhận");
    TL_ASSIGN_OR_RETURN(auto seq, s.Query("SELECT COUNT(*) FROM sqlite_sequence WHERE name = 'notifications'"));
    EXPECT_EQ(seq.rows.at(0).Int(0), 0);  // nothing to rewrite on each insert any more
    TL_ASSIGN_OR_RETURN(auto idx, s.Query("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'notifications_user'"));
    EXPECT_EQ(idx.rows.at(0).Int(0), 1);
    return Status::Ok();
  }).ok());
}

}  // namespace
}  // namespace tl::dossiers
