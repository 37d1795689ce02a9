#include "modules/documents/qr.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

#include "modules/documents/printable.h"

namespace tl::documents {
namespace {

struct QrcodeDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrcodePtr = std::unique_ptr<QRcode, QrcodeDeleter>;

}  // namespace

Result<QrCode> EncodeQr(std::string_view text, std::string_view field) {
  if (text.empty()) return InvalidArgument("nothing to encode in a QR code", std::string(field));
  if (text.find('\0') != std::string_view::npos) {
    return InvalidArgument("a QR code text must not contain NUL bytes", std::string(field));
  }
  std::string owned(text);  // libqrencode wants a NUL-terminated string
  errno = 0;
  QrcodePtr code(QRcode_encodeString8bit(owned.c_str(), 0, QR_ECLEVEL_M));
  if (!code) {
    if (errno == ERANGE) return InvalidArgument("too long for a QR code", std::string(field));
    return Internal("libqrencode failed to encode a QR code (errno " + std::to_string(errno) + ")");
  }
  QrCode out;
  out.size = code->width;
  size_t n = static_cast<size_t>(code->width) * static_cast<size_t>(code->width);
  out.dark.resize(n);
  // libqrencode: bit 0 of each byte is the module's colour (1 = dark); the other bits describe its role.
  for (size_t i = 0; i < n; ++i) out.dark[i] = code->data[i] & 1;
  return out;
}

std::string QrSvg(const QrCode& qr, std::string_view label) {
  int side = qr.size + 2 * kQrQuietZone;
  std::string s = std::to_string(side);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" viewBox=\"0 0 " + s + " " + s +
                    "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"" + EscapeHtml(label) + "\">";
  out += "<rect width=\"" + s + "\" height=\"" + s + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One sub-path per horizontal run of dark modules keeps the element small.
  for (int y = 0; y < qr.size; ++y) {
    int x = 0;
    while (x < qr.size) {
      if (!qr.Dark(x, y)) {
        ++x;
        continue;
      }
      int start = x;
      while (x < qr.size && qr.Dark(x, y)) ++x;
      out += 'M' + std::to_string(start + kQrQuietZone) + ' ' + std::to_string(y + kQrQuietZone) + 'h' +
             std::to_string(x - start) + "v1h-" + std::to_string(x - start) + 'z';
    }
  }
  out += "\"/></svg>";
  return out;
}

}  // namespace tl::documents
