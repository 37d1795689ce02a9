#include "modules/subscriptions/delivery.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "core/crypto.h"
#include "core/thread_name.h"

namespace tl::subscriptions {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void EnsureCurlGlobal() {
  static CurlGlobal once;  // curl_global_init is not thread-safe before 7.84; done once, immutable after
  (void)once;
}

}  // namespace

struct WebhookClient::Handle {
  struct Cleanup {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  std::unique_ptr<CURL, Cleanup> curl;
  long connect_timeout_ms;
  long total_timeout_ms;
};

WebhookClient::WebhookClient(long connect_timeout_ms, long total_timeout_ms) : handle_(std::make_unique<Handle>()) {
  EnsureCurlGlobal();
  handle_->curl.reset(curl_easy_init());
  handle_->connect_timeout_ms = connect_timeout_ms;
  handle_->total_timeout_ms = total_timeout_ms;
}

WebhookClient::~WebhookClient() = default;

Result<int> WebhookClient::Post(const std::string& url, const std::string& content_type, const std::string& link,
                                const std::string& tenant, const std::string& body) {
  CURL* c = handle_->curl.get();
  if (!c) return Unavailable("libcurl is not available");
  curl_easy_reset(c);  // keeps the connection cache: the endpoint's connection is reused
  struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  std::unique_ptr<curl_slist, SlistFree> headers;
  auto add = [&headers](const std::string& h) { headers.reset(curl_slist_append(headers.release(), h.c_str())); };
  add("Content-Type: " + content_type);
  if (!link.empty()) add("Link: " + link);
  if (!tenant.empty()) add("NGSILD-Tenant: " + tenant);
  add("Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, handle_->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, handle_->total_timeout_ms);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "ThangLong-NGSI-LD/1");
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return Unavailable(curl_easy_strerror(rc));
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  return static_cast<int>(code);
}

Deliverer::Deliverer(SubscriptionStore* store, const Clock* clock, DeliveryOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      client_(options_.connect_timeout_ms, options_.total_timeout_ms),
      jitter_state_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1) {
  if (options_.owner.empty()) options_.owner = "subs-" + crypto::RandomToken(9);
}

Deliverer::~Deliverer() {
  Stop();
}

void Deliverer::Start() {
  Stop();
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    NameThisThread("tl-notify");
    std::unique_lock lock(mu_);
    while (!stop_) {
      woken_ = false;
      lock.unlock();
      auto n = RunOnce();
      if (!n.ok()) spdlog::warn(R"("msg":"notification delivery failed","error":"{}")", n.status().message());
      lock.lock();
      if (!n.ok() || *n == 0) {
        cv_.wait_for(lock, std::chrono::milliseconds(options_.idle_poll_ms), [this] { return stop_ || woken_; });
      }
    }
  });
  queued_listener_ = store_->AddQueuedListener([this] { Wake(); });
}

void Deliverer::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

void Deliverer::Stop() {
  if (queued_listener_ >= 0) {
    store_->RemoveQueuedListener(queued_listener_);  // no Wake() runs after this
    queued_listener_ = -1;
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t Deliverer::Backoff(int64_t consecutive_failures) {
  int64_t base = options_.initial_backoff_ms;
  for (int64_t i = 1; i < consecutive_failures && base < options_.max_backoff_ms; ++i) base *= 2;
  base = std::min(base, options_.max_backoff_ms);
  jitter_state_ ^= jitter_state_ << 13;  // xorshift64: jitter needs no cryptographic quality
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  int64_t spread = base / 5;
  int64_t jitter =
      spread > 0 ? static_cast<int64_t>(jitter_state_ % static_cast<uint64_t>(2 * spread + 1)) - spread : 0;
  return std::max<int64_t>(1, base + jitter);
}

Result<int64_t> Deliverer::RunOnce() {
  // The gates below are checked against the time of the claim, not the time each group comes up: a
  // subscription's retry time passing between the two would let rows queued after a failed batch go
  // out before that batch (they were claimed, it was not yet due).
  const int64_t claimed_at = clock_->NowMillis();
  TL_ASSIGN_OR_RETURN(auto rows, store_->Claim(options_.owner, options_.claim_batch, options_.lease_ms));
  if (rows.empty()) return int64_t{0};
  // Group by subscription, keeping the order of first appearance and the rows' order (ids ascending).
  std::map<std::pair<std::string, std::string>, std::vector<const Notification*>> groups;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& n : rows) {
    auto key = std::make_pair(n.tenant, n.subscription_id);
    auto [it, inserted] = groups.try_emplace(key);
    if (inserted) order.push_back(key);
    it->second.push_back(&n);
  }
  int64_t delivered = 0;
  for (const auto& key : order) {
    const auto& group = groups[key];
    std::vector<int64_t> ids;
    for (const auto* n : group) ids.push_back(n->id);
    TL_ASSIGN_OR_RETURN(auto target, store_->Target(key.first, key.second));
    if (!target) {
      TL_RETURN_IF_ERROR(store_->Discard(options_.owner, ids));
      continue;
    }
    int64_t now = clock_->NowMillis();
    int64_t gate = 0;
    if (target->retry_at) gate = *target->retry_at;
    if (target->throttling_s > 0 && target->last_notification) {
      gate = std::max(gate, *target->last_notification + target->throttling_s * 1000);
    }
    if (gate > claimed_at) {
      TL_RETURN_IF_ERROR(store_->Defer(options_.owner, ids, gate));
      continue;
    }
    // One POST per max_per_post rows; with throttling only the first goes now, the rest wait.
    size_t send = std::min(group.size(), static_cast<size_t>(options_.max_per_post));
    std::vector<int64_t> sent(ids.begin(), ids.begin() + send), rest(ids.begin() + send, ids.end());
    const bool ld = target->accept == "application/ld+json";
    std::string body = R"({"id":"urn:ngsi-ld:Notification:)" + crypto::RandomToken(12) + R"(","type":"Notification",)";
    body +=
        "\"subscriptionId\":" + nlohmann::json(key.second).dump() + ",\"notifiedAt\":\"" + FormatRfc3339(now) + "\",";
    if (ld) body += "\"@context\":" + nlohmann::json(target->context_url).dump() + ",";
    body += "\"data\":[";
    for (size_t i = 0; i < send; ++i) {
      if (i) body += ',';
      body += group[i]->data;
    }
    body += "]}";
    std::string link = ld ? std::string()
                          : "<" + target->context_url +
                                ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
    auto code = client_.Post(target->endpoint, ld ? "application/ld+json" : "application/json", link, key.first, body);
    if (code.ok() && *code >= 200 && *code < 300) {
      TL_RETURN_IF_ERROR(store_->Delivered(options_.owner, key.first, key.second, sent));
      delivered += static_cast<int64_t>(send);
      delivered_ += static_cast<int64_t>(send);
      if (!rest.empty()) {
        int64_t due = target->throttling_s > 0 ? now + target->throttling_s * 1000 : now;
        TL_RETURN_IF_ERROR(store_->Defer(options_.owner, rest, due));
      }
    } else {
      ++failed_;
      int64_t retry_at = now + Backoff(target->consecutive_failures + 1);
      spdlog::info(R"("msg":"notification not delivered","subscription":"{}","error":"{}","retry_in_ms":{})",
                   key.second, code.ok() ? "HTTP " + std::to_string(*code) : code.status().message(), retry_at - now);
      TL_RETURN_IF_ERROR(store_->Failed(options_.owner, key.first, key.second, ids, retry_at));
    }
  }
  return delivered;
}

}  // namespace tl::subscriptions
