#include "core/text.h"

#include <gtest/gtest.h>

#include "core/file_type.h"

namespace tl::text {
namespace {

TEST(TextTest, FoldsVietnameseDiacriticsAndCase) {
  EXPECT_EQ(FoldForSearch("Đăng ký khai sinh"), "dang ky khai sinh");
  EXPECT_EQ(FoldForSearch("dang ky khai sinh"), "dang ky khai sinh");
  EXPECT_EQ(FoldForSearch("PHƯỜNG BA ĐÌNH"), "phuong ba dinh");
  EXPECT_EQ(FoldForSearch("Thủy Khuê"), FoldForSearch("Thuỷ Khuê"));
}

TEST(TextTest, NormalisesToNfc) {
  // "Hà" written as 'a' + combining grave (NFD) becomes the precomposed U+00E0.
  std::string nfd = "Ha\xCC\x80";
  auto nfc = NormalizeNfc(nfd);
  ASSERT_TRUE(nfc.ok());
  EXPECT_EQ(*nfc, "H\xC3\xA0");
  EXPECT_EQ(*NormalizeNfc("plain ascii"), "plain ascii");
}

TEST(TextTest, RejectsInvalidUtf8NamingTheField) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong
  EXPECT_TRUE(IsValidUtf8("Hà Nội"));
  auto r = NormalizeNfc("bad \xFF", "full_name");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "full_name");
  EXPECT_FALSE(NormalizeNfc(std::string("a\0b", 3)).ok());
}

TEST(TextTest, SplitsTokens) {
  auto t = Tokens("dang ky, khai-sinh 1.000253");
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t[0], "dang");
  EXPECT_EQ(t[3], "sinh");
  EXPECT_EQ(t[4], "1.000253");
  EXPECT_EQ(Trim("  x y \n"), "x y");
  EXPECT_EQ(CodePointCount("Hà Nội"), 6);
  EXPECT_EQ(CleanText("  Ủy ban\xC2\xA0Nhân dân\t\n xã. "), "Ủy ban Nhân dân xã.");
}

TEST(TextTest, JoinAndSplitOnASeparator) {
  EXPECT_EQ(Join({"basic", "residence"}), "basic,residence");
  EXPECT_EQ(Join({}), "");
  EXPECT_EQ(Split("basic,,residence,"), (std::vector<std::string>{"basic", "residence"}));
  EXPECT_TRUE(Split("").empty());
  EXPECT_EQ(Split(Join({"a", "b", "c"}, ';'), ';'), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(FileTypeTest, DocumentsArePdfPngOrJpegWhoseBytesMatch) {
  EXPECT_EQ(tl::MediaType(" Application/PDF ; charset=binary"), "application/pdf");
  EXPECT_TRUE(tl::CheckDocument("application/pdf", "%PDF-1.7 ...", "scans").ok());
  EXPECT_TRUE(tl::CheckDocument("image/png", std::string("\x89PNG\r\n\x1a\n", 8) + "x", "scans").ok());
  EXPECT_TRUE(tl::CheckDocument("image/jpeg", "\xFF\xD8\xFF\xE0", "scans").ok());
  auto wrong = tl::CheckDocument("text/html", "<html>", "scans");
  EXPECT_EQ(wrong.code(), StatusCode::kUnsupportedMediaType);
  EXPECT_EQ(wrong.field(), "Content-Type");
  EXPECT_EQ(tl::CheckDocument("application/pdf", "", "scans").field(), "body");
  EXPECT_EQ(tl::CheckDocument("image/png", "%PDF-1.7", "scans").field(), "body");
}

}  // namespace
}  // namespace tl::text
