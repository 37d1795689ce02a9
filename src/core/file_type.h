// Files citizens and agencies exchange (attachments, wallet scans, documents to verify) are PDF,
// PNG or JPEG, and their first bytes must match the declared type. They are stored and served as
// data, never executed.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace tl {

// The media type of a Content-Type header value: parameters dropped, trimmed, lower case.
std::string MediaType(std::string_view content_type);
bool IsDocumentType(std::string_view media_type);
// 415 (field Content-Type) for a type other than PDF/PNG/JPEG, naming `what` ("attachments");
// 400 (field body) for an empty file or bytes that are not of the declared type.
Status CheckDocument(std::string_view media_type, std::string_view bytes, std::string_view what);

}  // namespace tl
