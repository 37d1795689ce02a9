#include "modules/ops/event_hub.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/thread_name.h"
#include "modules/ngsild/entity.h"

namespace tl::ops {

using nlohmann::json;

// One connected client. Its cursor and recent set are touched by the poller thread only.
struct EventHub::Client {
  std::shared_ptr<http::Stream> stream;
  std::string tenant;           // NGSI-LD tenant followed; "" the default one
  std::set<std::string> types;  // compact; empty: all
  Cursor cursor;
  std::map<std::string, int64_t> recent;  // entity id → modifiedAt of the last event sent, within lookback
  bool Wants(const std::string& type) const { return types.empty() || types.contains(type); }
};

Result<Cursor> ParseEventId(std::string_view text, std::string_view field) {
  auto error = [&] {
    return InvalidArgument("expected '<modifiedAt ms>:<entity id>', the id of an event of this stream",
                           std::string(field));
  };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 15 || colon + 1 >= text.size()) return error();
  Cursor c;
  for (size_t i = 0; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9') return error();
    c.modified_ms = c.modified_ms * 10 + (text[i] - '0');
  }
  c.id = std::string(text.substr(colon + 1));
  if (c.id.size() > 1024) return error();
  return c;
}

EventHub::EventHub(const ngsild::EntityStore* store, std::shared_ptr<const ngsild::Context> context,
                   const Clock* clock, EventHubOptions options)
    : store_(store), context_(std::move(context)), clock_(clock), options_(options) {}

EventHub::~EventHub() { Stop(); }

void EventHub::Start() {
  std::lock_guard lock(mu_);
  if (poller_.joinable()) return;
  stopping_ = false;
  last_heartbeat_ = std::chrono::steady_clock::now();
  poller_ = std::thread([this] {
    NameThisThread("tl-ops-feed");
    Loop();
  });
}

void EventHub::Stop() {
  std::vector<std::shared_ptr<Client>> clients;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    clients.swap(clients_);
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
  for (auto& c : clients) c->stream->Close();
}

bool EventHub::HasRoom() const {
  std::lock_guard lock(mu_);
  return !stopping_ && clients_.size() < options_.max_clients;
}

size_t EventHub::client_count() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

Status EventHub::Subscribe(std::shared_ptr<http::Stream> stream, std::optional<Cursor> resume,
                           std::set<std::string> types, std::string tenant) {
  auto c = std::make_shared<Client>();
  c->stream = std::move(stream);
  c->tenant = std::move(tenant);
  c->types = std::move(types);
  c->cursor = resume ? *resume : Cursor{clock_->NowMillis(), ""};
  // The reconnection delay for EventSource, and a first line so that clients see the stream open.
  if (!c->stream->Write("retry: 3000\n: connected\n\n")) return Unavailable("the client left");
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Unavailable("the server is shutting down");
    if (clients_.size() >= options_.max_clients) return Unavailable("too many operations streams; retry shortly");
    clients_.push_back(c);
    wake_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

void EventHub::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || wake_; });
    if (stopping_) break;
    wake_ = false;
    lock.unlock();
    try {
      PollOnce();
      Heartbeat();
    } catch (const std::exception& e) {
      spdlog::warn(R"("msg":"operations feed poll failed","error":{})", json(std::string(e.what())).dump());
    }
    lock.lock();
  }
}

namespace {

// Names of the attributes whose instances were written at the entity's modifiedAt (the last write),
// and the latest observedAt among them.
std::vector<std::string> ChangedAttributes(const json& doc, const std::string& modified, std::string* observed) {
  std::vector<std::string> out;
  for (const auto& name : ngsild::AttributeNames(doc)) {
    const json& attr = doc[name];
    bool changed = false;
    auto visit = [&](const json& inst) {
      if (!inst.is_object()) return;
      if (inst.value("modifiedAt", "") == modified) changed = true;
      std::string at = inst.value("observedAt", "");
      if (at > *observed) *observed = at;
    };
    if (attr.is_array()) {
      for (const auto& inst : attr) visit(inst);
    } else {
      visit(attr);
    }
    if (changed) out.push_back(name);
  }
  return out;
}

}  // namespace

std::string EventHub::FormatEvent(const ngsild::StoredEntity& e, Cursor* cursor, std::string* type) const {
  const std::string id = e.doc.value("id", "");
  *cursor = Cursor{e.modified_at_ms, id};
  if (e.deleted) {
    *type = context_->Compact(e.doc.value("type", ""));
    json data = {{"id", id}, {"type", *type}, {"deletedAt", FormatRfc3339(e.modified_at_ms)}};
    return "id: " + std::to_string(e.modified_at_ms) + ":" + id + "\nevent: deleted\ndata: " +
           data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
  }
  const std::string modified = FormatRfc3339(e.modified_at_ms);
  std::string observed;
  std::vector<std::string> changed = ChangedAttributes(e.doc, modified, &observed);
  ngsild::RenderOptions ro;
  ro.key_values = true;
  json rendered = ngsild::Render(e.doc, *context_, ro, e.created_at_ms, e.modified_at_ms);
  json data = json::object();
  data["id"] = id;
  data["type"] = rendered.contains("type") ? rendered["type"] : json(nullptr);
  const json& t = data["type"];
  *type = t.is_string() ? t.get<std::string>() : t.is_array() && !t.empty() && t[0].is_string() ? t[0].get<std::string>() : "";
  data["modifiedAt"] = modified;
  data["version"] = e.version;
  json names = json::array();
  for (const auto& n : changed) names.push_back(context_->Compact(n));
  data["changed"] = std::move(names);
  const std::string location = context_->Compact(ngsild::kLocationIri);
  data["location"] = rendered.contains(location) ? rendered[location] : json(nullptr);
  json attributes = json::object();
  for (auto it = rendered.begin(); it != rendered.end(); ++it) {
    if (it.key() == "id" || it.key() == "type" || it.key() == "@context" || it.key() == location) continue;
    attributes[it.key()] = it.value();
  }
  data["attributes"] = std::move(attributes);
  data["observedAt"] = observed.empty() ? json(nullptr) : json(observed);
  return "id: " + std::to_string(e.modified_at_ms) + ":" + id + "\nevent: entity\ndata: " +
         data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

void EventHub::PollOnce() {
  std::vector<std::shared_ptr<Client>> clients;
  {
    std::lock_guard lock(mu_);
    clients = clients_;
  }
  if (clients.empty()) return;
  std::vector<bool> gone(clients.size(), false);
  // Each tenant's changes are read once for all of its clients.
  std::map<std::string, std::vector<size_t>> by_tenant;
  for (size_t i = 0; i < clients.size(); ++i) by_tenant[clients[i]->tenant].push_back(i);
  for (const auto& [tenant, members] : by_tenant) PollTenant(tenant, clients, members, gone);
  for (size_t i = 0; i < clients.size(); ++i) {
    Client& c = *clients[i];
    std::erase_if(c.recent, [&](const auto& kv) { return kv.second <= c.cursor.modified_ms - options_.lookback_ms; });
  }
  std::lock_guard lock(mu_);
  std::erase_if(clients_, [&](const std::shared_ptr<Client>& c) {
    for (size_t i = 0; i < clients.size(); ++i) {
      if (clients[i] == c && (gone[i] || !c->stream->open())) return true;
    }
    return false;
  });
}

void EventHub::PollTenant(const std::string& tenant, const std::vector<std::shared_ptr<Client>>& clients,
                          const std::vector<size_t>& members, std::vector<bool>& gone) {
  Cursor oldest = clients[members[0]]->cursor;
  for (size_t i : members) oldest = std::min(oldest, clients[i]->cursor);
  Cursor after{oldest.modified_ms - options_.lookback_ms - 1, ""};
  for (int page = 0; page < options_.max_pages_per_poll; ++page) {
    auto rows = store_->ChangedSince(tenant, after.modified_ms, after.id, options_.page);
    if (!rows.ok()) {
      spdlog::warn(R"("msg":"operations feed cannot read changes","tenant":{},"error":{})", json(tenant).dump(),
                   json(rows.status().message()).dump());
      return;
    }
    for (const auto& row : *rows) {
      Cursor key;
      std::string event;  // formatted once, for the first client that has not seen the row
      std::string type;
      for (size_t i : members) {
        Client& c = *clients[i];
        if (gone[i]) continue;
        const std::string& id = row.doc.value("id", "");
        bool fresh = c.cursor < Cursor{row.modified_at_ms, id};
        bool late = !fresh && row.modified_at_ms > c.cursor.modified_ms - options_.lookback_ms;
        if (late) {
          auto r = c.recent.find(id);
          late = r == c.recent.end() || r->second != row.modified_at_ms;
        }
        if (!fresh && !late) continue;
        if (event.empty()) event = FormatEvent(row, &key, &type);
        if (fresh) c.cursor = key;
        c.recent[id] = row.modified_at_ms;
        if (!c.Wants(type)) continue;
        if (!c.stream->Write(event)) gone[i] = true;
      }
    }
    if (rows->size() < static_cast<size_t>(options_.page)) break;
    const auto& last = rows->back();
    after = Cursor{last.modified_at_ms, last.doc.value("id", "")};
  }
}

void EventHub::Heartbeat() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_heartbeat_ < options_.heartbeat) return;
  last_heartbeat_ = now;
  std::vector<std::shared_ptr<Client>> clients;
  {
    std::lock_guard lock(mu_);
    clients = clients_;
  }
  for (auto& c : clients) c->stream->Write(": heartbeat\n\n");
  std::lock_guard lock(mu_);
  std::erase_if(clients_, [](const std::shared_ptr<Client>& c) { return !c->stream->open(); });
}

}  // namespace tl::ops
