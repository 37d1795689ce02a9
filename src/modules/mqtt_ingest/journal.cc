#include "modules/mqtt_ingest/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

namespace tl::mqtt_ingest {

namespace fs = std::filesystem;

namespace {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

uint32_t Fnv1a(std::string_view bytes) {
  uint32_t h = 2166136261u;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

Status Errno(const std::string& what) {
  return Internal(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("mqtt journal: write");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string SegmentName(uint64_t n) {
  char name[32];
  std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(n));
  return name;
}

constexpr size_t kMarkBytes = 24;  // segment, offset, FNV-1a of the 16 bytes before (u64)
constexpr uint32_t kMaxRecord = 64u << 20;

}  // namespace

struct Journal::Impl {
  fs::path dir;
  uint64_t segment_bytes = 0;
  mutable std::mutex mu;
  Fd current;  // the segment appends go to
  uint64_t current_segment = 0;
  uint64_t current_offset = 0;
  std::vector<uint64_t> live;  // segments on disk, ascending (the current one last)
  Fd mark;
  Position marked;
  std::string record;  // reused for each append (under mu)

  Status OpenSegment(uint64_t n) {
    Fd fd(::open((dir / SegmentName(n)).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
    if (!fd.ok()) return Errno("mqtt journal: cannot create " + (dir / SegmentName(n)).string());
    current = std::move(fd);
    current_segment = n;
    current_offset = 0;
    live.push_back(n);
    return Status::Ok();
  }

  Status WriteMark(Position p) {
    std::string bytes;
    PutU64(bytes, p.segment);
    PutU64(bytes, p.offset);
    PutU64(bytes, Fnv1a(bytes));
    if (::pwrite(mark.get(), bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      return Errno("mqtt journal: cannot write the applied mark");
    }
    marked = p;
    // Segments wholly before the mark hold nothing left to apply.
    while (!live.empty() && live.front() < p.segment) {
      ::unlink((dir / SegmentName(live.front())).c_str());
      live.erase(live.begin());
    }
    return Status::Ok();
  }
};

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Journal::~Journal() = default;

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& dir, uint64_t segment_bytes) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->segment_bytes = std::max<uint64_t>(segment_bytes, 4096);
  std::error_code ec;
  fs::create_directories(impl->dir, ec);
  if (ec) return Internal("mqtt journal: cannot create " + dir + ": " + ec.message());

  impl->mark = Fd(::open((impl->dir / "applied.mark").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!impl->mark.ok()) return Errno("mqtt journal: cannot open " + (impl->dir / "applied.mark").string());
  char mark[kMarkBytes];
  Position from;
  if (::pread(impl->mark.get(), mark, kMarkBytes, 0) == static_cast<ssize_t>(kMarkBytes) &&
      GetU64(mark + 16) == Fnv1a(std::string_view(mark, 16))) {
    from = {GetU64(mark), GetU64(mark + 8)};
  }  // else none yet, or torn: everything on disk is replayed (applying a message twice is an update)

  std::vector<uint64_t> segments;
  for (const auto& entry : fs::directory_iterator(impl->dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 24 && name.compare(20, 4, ".seg") == 0 &&
        std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; })) {
      segments.push_back(std::stoull(name.substr(0, 20)));
    }
  }
  if (ec) return Internal("mqtt journal: cannot list " + dir + ": " + ec.message());
  std::sort(segments.begin(), segments.end());

  std::vector<Entry> unapplied;
  for (uint64_t n : segments) {
    if (n < from.segment) {  // applied; left over from a crash just before its deletion
      ::unlink((impl->dir / SegmentName(n)).c_str());
      continue;
    }
    impl->live.push_back(n);
    std::ifstream in(impl->dir / SegmentName(n), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t at = n == from.segment ? static_cast<size_t>(std::min<uint64_t>(from.offset, data.size())) : 0;
    while (data.size() - at >= 12) {
      uint32_t len = GetU32(data.data() + at);
      if (len < 4 || len > kMaxRecord || data.size() - at - 8 < len) break;  // torn tail
      std::string_view body(data.data() + at + 8, len);
      if (GetU32(data.data() + at + 4) != Fnv1a(body)) break;
      uint32_t topic_len = GetU32(body.data());
      if (topic_len > len - 4) break;
      unapplied.push_back({std::string(body.substr(4, topic_len)), std::string(body.substr(4 + topic_len))});
      at += 8 + len;
    }
  }
  impl->marked = from;
  TL_RETURN_IF_ERROR(impl->OpenSegment(segments.empty() ? 1 : segments.back() + 1));
  std::unique_ptr<Journal> journal(new Journal(std::move(impl)));
  journal->unapplied_ = std::move(unapplied);
  return journal;
}

Status Journal::MarkRecoveredApplied() {
  std::lock_guard lock(impl_->mu);
  unapplied_.clear();
  unapplied_.shrink_to_fit();
  // The new segment starts past everything recovered.
  return impl_->WriteMark({impl_->live.back(), 0});
}

Result<Journal::Position> Journal::Append(std::string_view topic, std::string_view payload) {
  Impl& im = *impl_;
  if (4 + topic.size() + payload.size() > kMaxRecord) return InvalidArgument("a message over 64 MiB is not journaled");
  std::lock_guard lock(im.mu);
  if (im.current_offset >= im.segment_bytes) TL_RETURN_IF_ERROR(im.OpenSegment(im.current_segment + 1));
  std::string& r = im.record;
  r.clear();
  PutU32(r, static_cast<uint32_t>(4 + topic.size() + payload.size()));
  PutU32(r, 0);  // checksum, below
  PutU32(r, static_cast<uint32_t>(topic.size()));
  r.append(topic);
  r.append(payload);
  uint32_t sum = Fnv1a(std::string_view(r).substr(8));
  for (int i = 0; i < 4; ++i) r[4 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  TL_RETURN_IF_ERROR(WriteAll(im.current.get(), r));
  im.current_offset += r.size();
  return Position{im.current_segment, im.current_offset};
}

Status Journal::MarkApplied(Position upto) {
  std::lock_guard lock(impl_->mu);
  const Position& m = impl_->marked;
  if (upto.segment < m.segment || (upto.segment == m.segment && upto.offset <= m.offset)) return Status::Ok();
  return impl_->WriteMark(upto);
}

int64_t Journal::live_segments() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<int64_t>(impl_->live.size());
}

}  // namespace tl::mqtt_ingest
