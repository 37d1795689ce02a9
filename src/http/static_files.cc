#include "http/static_files.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crypto.h"

namespace tl::http {
namespace {
std::string ContentType(const std::string& ext) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
      {".svg", "image/svg+xml"},             {".png", "image/png"},
      {".ico", "image/x-icon"},              {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"}, {".webmanifest", "application/manifest+json"},
      {".map", "application/json"}};
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}
}  // namespace

Result<std::shared_ptr<const StaticFiles>> StaticFiles::Load(const std::string& root) {
  auto files = std::make_shared<StaticFiles>();
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    return NotFound("web root " + root + " does not exist; build the front end with scripts/build.sh");
  }
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    File f;
    f.body = ss.str();
    f.content_type = ContentType(it->path().extension().string());
    f.etag = "\"" + crypto::Sha256Hex(f.body).substr(0, 16) + "\"";
    std::string rel = "/" + std::filesystem::relative(it->path(), root).generic_string();
    files->files_.emplace(std::move(rel), std::move(f));
  }
  return std::shared_ptr<const StaticFiles>(std::move(files));
}

std::optional<Response> StaticFiles::Serve(const std::string& path) const {
  std::string p = path == "/" ? "/index.html" : path;
  auto it = files_.find(p);
  if (it == files_.end()) {
    // A missing file of a static type is a 404; any other path is a route of the single-page app
    // (which may hold dots, as procedure codes do: /procedures/1.001193).
    auto slash = p.find_last_of('/');
    auto dot = p.find_last_of('.');
    if (dot != std::string::npos && (slash == std::string::npos || dot > slash) &&
        ContentType(p.substr(dot)) != "application/octet-stream") {
      return std::nullopt;
    }
    it = files_.find("/index.html");
    if (it == files_.end()) return std::nullopt;
  }
  Response r;
  r.status = 200;
  r.content_type = it->second.content_type;
  r.body = it->second.body;
  r.headers.emplace_back("ETag", it->second.etag);
  if (p.rfind("/assets/", 0) == 0) {
    r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  } else {
    r.headers.emplace_back("Cache-Control", "no-cache");
  }
  return r;
}

}  // namespace tl::http
