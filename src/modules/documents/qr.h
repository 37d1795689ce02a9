// QR codes for printed documents: the link a citizen scans to follow a dossier (libqrencode).
//
// EncodeQr turns a text (a URL) into the module matrix of a QR code in 8-bit byte mode with error
// correction level M (15% of the code may be damaged, enough for a stamped or folded paper) at the
// smallest version that holds it. The matrix is what the PDF renderer draws; QrSvg renders the same
// matrix as a self-contained SVG element for HTML documents (one <path>, crisp edges, no styles or
// scripts, so it passes a strict Content-Security-Policy). Both include the quiet zone the standard
// asks for (4 modules) when drawn.
//
// Errors are values: an empty text, one holding NUL bytes or one too long for a QR code (over about
// 2,300 bytes at level M) is InvalidArgument; a libqrencode failure is Internal.
//
// Thread-safety: pure functions over values; libqrencode is reentrant. Safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace tl::documents {

// The modules of a QR code, without the quiet zone.
struct QrCode {
  int size = 0;               // modules per side (21 for version 1, +4 per version)
  std::vector<uint8_t> dark;  // size * size, row-major; 1 = dark module

  bool Dark(int x, int y) const { return dark[static_cast<size_t>(y) * size + x] != 0; }
};

// Modules of quiet zone to leave around a code (ISO/IEC 18004).
inline constexpr int kQrQuietZone = 4;

// Encodes `text` (level M, byte mode). `field` names the input in errors.
Result<QrCode> EncodeQr(std::string_view text, std::string_view field = "url");

// An <svg> element drawing `qr` with its quiet zone, one user unit per module; sized by CSS (class "qr").
// `label` becomes the element's accessible name (escaped).
std::string QrSvg(const QrCode& qr, std::string_view label);

}  // namespace tl::documents
