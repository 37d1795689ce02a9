// The built web front end, loaded into memory at start-up and served with safe headers.
//
// Files under /assets/ (content-hashed by Vite) are cached for a year; everything else revalidates.
// A path with no file extension that matches no file gets index.html, so the single-page app's own
// routes (/procedures/1.000253) load on refresh.
//
// Thread-safety: immutable after Load(); safe to read from any thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "http/http.h"

namespace tl::http {

class StaticFiles {
 public:
  static Result<std::shared_ptr<const StaticFiles>> Load(const std::string& root);
  std::optional<Response> Serve(const std::string& path) const;
  size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
    std::string etag;
  };
  std::map<std::string, File> files_;
};

}  // namespace tl::http
