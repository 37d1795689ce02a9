#include "core/file_type.h"

#include <cctype>

#include "core/text.h"

namespace tl {

std::string MediaType(std::string_view content_type) {
  std::string type(text::Trim(content_type.substr(0, content_type.find(';'))));
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

bool IsDocumentType(std::string_view t) { return t == "application/pdf" || t == "image/png" || t == "image/jpeg"; }

Status CheckDocument(std::string_view type, std::string_view bytes, std::string_view what) {
  if (!IsDocumentType(type)) {
    return Status(StatusCode::kUnsupportedMediaType, std::string(what) + " are PDF, PNG or JPEG files", "Content-Type");
  }
  if (bytes.empty()) return InvalidArgument("the file is empty", "body");
  bool matches = (type == "application/pdf" && bytes.substr(0, 5) == "%PDF-") ||
                 (type == "image/png" && bytes.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) ||
                 (type == "image/jpeg" && bytes.substr(0, 3) == "\xFF\xD8\xFF");
  if (!matches) return InvalidArgument("the file's content is not a " + std::string(type) + " file", "body");
  return Status::Ok();
}

}  // namespace tl
