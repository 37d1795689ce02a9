// Once-only matching (once_only.h) over the real rules file, data/rules/component-document-types.json:
// components of the platform's own forms are matched to the wallet document types that can stand for
// them, declarations and requests never are, and malformed rules are refused naming the entry.
#include "modules/dossiers/once_only.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tl::dossiers {
namespace {

using nlohmann::json;

class OnceOnlyRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r =
        ComponentDocumentRules::Load(std::string(THANGLONG_TEST_DATA_ROOT) + "/rules/component-document-types.json");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    rules_ = std::make_unique<ComponentDocumentRules>(std::move(*r));
  }
  std::vector<std::string> TypesFor(const std::string& component) const {
    std::vector<std::string> out;
    for (const auto* r : rules_->RulesForComponent(component)) out.push_back(r->type);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::unique_ptr<ComponentDocumentRules> rules_;
};

TEST_F(OnceOnlyRulesTest, ComponentsOfThePlatformsFormsMatchTheDocumentsThatProveThem) {
  // Permanent residence (1.004222): a birth or marriage certificate proves a family relationship.
  EXPECT_EQ(TypesFor("Giấy tờ, tài liệu chứng minh quan hệ nhân thân"),
            (std::vector<std::string>{"birth_certificate", "marriage_certificate"}));
  // Marriage registration (1.000894).
  EXPECT_EQ(TypesFor("Giấy xác nhận tình trạng hôn nhân"), std::vector<std::string>{"marital_status_confirmation"});
  EXPECT_EQ(TypesFor("Trích lục ghi chú ly hôn"), std::vector<std::string>{"divorce_record"});
  // Household business registration (1.001612): the members' identity papers.
  EXPECT_EQ(TypesFor("Bản sao giấy tờ pháp lý của cá nhân đối với các thành viên hộ gia đình đăng ký hộ kinh doanh"),
            std::vector<std::string>{"identity"});
  EXPECT_EQ(TypesFor("Bản sao Giấy khai sinh"), std::vector<std::string>{"birth_certificate"});
}

TEST_F(OnceOnlyRulesTest, FoldingIgnoresCaseDiacriticsAndPunctuationButNotWordOrder) {
  EXPECT_EQ(TypesFor("GIAY TO CHUNG MINH QUAN HE NHAN THAN"), TypesFor("Giấy tờ chứng minh quan hệ nhân thân"));
  EXPECT_EQ(TypesFor("giấy   khai-sinh (bản sao)."), std::vector<std::string>{"birth_certificate"});
  EXPECT_EQ(TypesFor("Trích lục khai sinh."), std::vector<std::string>{"birth_certificate"});
  // A decomposed (NFD) name folds like the composed one.
  EXPECT_EQ(TypesFor("Gia\u0301y khai sinh"), std::vector<std::string>{"birth_certificate"});
  EXPECT_TRUE(TypesFor("sinh khai giấy").empty());
  // Whole words: "khai sinh" inside another word does not count.
  EXPECT_TRUE(TypesFor("Giấy chứng sinh").empty());
}

TEST_F(OnceOnlyRulesTest, DeclarationsRequestsAndUnknownComponentsMatchNothing) {
  EXPECT_TRUE(TypesFor("Tờ khai đăng ký khai sinh").empty());
  EXPECT_TRUE(TypesFor("Tờ khai đăng ký kết hôn").empty());
  EXPECT_TRUE(TypesFor("Tờ khai thay đổi thông tin cư trú (mẫu CT01)").empty());
  EXPECT_TRUE(TypesFor("Văn bản ủy quyền").empty());
  EXPECT_TRUE(TypesFor("Giấy tờ, tài liệu chứng minh chỗ ở hợp pháp").empty());
  EXPECT_TRUE(TypesFor("").empty());
}

TEST_F(OnceOnlyRulesTest, AWalletDocumentIsKnownByItsTypeOrByTheProcedureThatIssuedIt) {
  ASSERT_NE(rules_->RuleOfDocument("1.001193"), nullptr);  // the result of a birth registration
  EXPECT_EQ(rules_->RuleOfDocument("1.001193")->type, "birth_certificate");
  EXPECT_EQ(rules_->RuleOfDocument("birth_certificate")->type, "birth_certificate");
  EXPECT_EQ(rules_->RuleOfDocument("1.000894")->type, "marriage_certificate");
  EXPECT_EQ(rules_->RuleOfDocument("scan"), nullptr);
  EXPECT_EQ(rules_->RuleOfDocument("1.010386"), nullptr);
  const std::string kinship = "Giấy tờ, tài liệu chứng minh quan hệ nhân thân";
  EXPECT_TRUE(rules_->Satisfies(kinship, "1.001193"));
  EXPECT_TRUE(rules_->Satisfies(kinship, "marriage_certificate"));
  EXPECT_FALSE(rules_->Satisfies(kinship, "identity"));
  EXPECT_FALSE(rules_->Satisfies(kinship, "scan"));
  EXPECT_FALSE(rules_->Satisfies("Tờ khai đăng ký khai sinh", "1.001193"));
}

TEST_F(OnceOnlyRulesTest, ACertificateOfMaritalStatusStandsForSixMonths) {
  const DocumentTypeRule* r = rules_->RuleOfDocument("1.004873");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->valid_days, 183);
  EXPECT_TRUE(ComponentDocumentRules::WithinValidDays(*r, "2026-06-01", "2026-11-30"));
  EXPECT_FALSE(ComponentDocumentRules::WithinValidDays(*r, "2026-05-01", "2026-11-30"));
  EXPECT_FALSE(ComponentDocumentRules::WithinValidDays(*r, "", "2026-11-30"));  // undated: cannot show it
  // Without a limit only the document's own validity counts.
  EXPECT_TRUE(ComponentDocumentRules::WithinValidDays(*rules_->RuleOfDocument("1.001193"), "1990-01-01", "2026-11-30"));
}

TEST(OnceOnlyRulesParseTest, MalformedRulesAreRefusedNamingTheEntry) {
  auto field = [](const json& j) { return ComponentDocumentRules::Parse(j, "rules.json").status().field(); };
  EXPECT_EQ(field(json::object()), "rules.json");
  EXPECT_EQ(field({{"document_types", {{{"label_vi", "x"}}}}}), "rules.json");
  EXPECT_EQ(field({{"document_types", {{{"type", "a"}}}}}), "rules.json: a");  // no component phrases
  EXPECT_EQ(field({{"document_types", {{{"type", "a"}, {"components", {"x"}}, {"valid_days", -1}}}}}), "rules.json: a");
  EXPECT_EQ(field({{"document_types",
                    {{{"type", "a"}, {"components", {"x"}}, {"issued_by", {"1.1"}}},
                     {{"type", "b"}, {"components", {"y"}}, {"issued_by", {"1.1"}}}}}}),
            "rules.json: b");  // one procedure's result cannot be two kinds of document
  EXPECT_EQ(field({{"document_types", {{{"type", "a"}, {"components", {" "}}}}}}), "rules.json: a");
  auto ok = ComponentDocumentRules::Parse(
      {{"never", {"tờ khai"}}, {"document_types", {{{"type", "a"}, {"components", {"giấy a"}}}}}}, "rules.json");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->Satisfies("Bản sao giấy A", "a"));
  EXPECT_FALSE(ok->Satisfies("Tờ khai giấy A", "a"));
}

}  // namespace
}  // namespace tl::dossiers
