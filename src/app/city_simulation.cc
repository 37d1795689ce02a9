#include "app/city_simulation.h"

#include <curl/curl.h>

#include <chrono>
#include <cmath>
#include <ostream>
#include <thread>
#include <unordered_set>

#include "core/clock.h"
#include "core/crypto.h"
#include "modules/mqtt_ingest/mqtt_ingest.h"

namespace tl::app {
namespace {

using nlohmann::json;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

class HttpFeed final : public CityFeed {
 public:
  HttpFeed(std::string base, const std::string& api_key, size_t batch) : base_(std::move(base)), batch_(batch) {
    static CurlGlobal once;  // curl_global_init is not thread-safe before 7.84: done once, immutable after
    (void)once;
    curl_.reset(curl_easy_init());
    // The Smart Data Models' compact terms need their @context, held by the platform itself.
    std::string link = "Link: <" + base_ +
                       "/ngsi-ld/v1/jsonldContexts/thanglong-smart-data-models.jsonld>; "
                       "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
    std::string auth = "Authorization: Bearer " + api_key;
    for (const std::string& h : {std::string("Content-Type: application/json"), link, auth}) {
      headers_.reset(curl_slist_append(headers_.release(), h.c_str()));
    }
  }

  Status SendEntities(const std::vector<json>& entities) override { return SendBatches(entities, false); }

  Status SendObservations(const citysim::CityModel&, std::vector<citysim::CityModel::Measurement>& ms) override {
    std::vector<json> fragments;
    fragments.reserve(ms.size());
    for (const auto& m : ms) fragments.push_back(citysim::CityModel::Fragment(m));
    return SendBatches(fragments, true);
  }

  Status Ready() const { return curl_ && headers_ ? Status::Ok() : Internal("libcurl could not start"); }

 private:
  // Batches of at most batch_ entities, never the same entity twice in one (a batch is one
  // transaction; a second observation of the same sensor waits for the next batch).
  Status SendBatches(const std::vector<json>& items, bool update) {
    json batch = json::array();
    std::unordered_set<std::string> ids;
    for (const auto& item : items) {
      const std::string& id = item["id"].get_ref<const std::string&>();
      if (batch.size() >= batch_ || ids.count(id)) {
        TL_RETURN_IF_ERROR(Post(batch, update));
        batch = json::array();
        ids.clear();
      }
      ids.insert(id);
      batch.push_back(item);
    }
    if (!batch.empty()) TL_RETURN_IF_ERROR(Post(batch, update));
    return Status::Ok();
  }

  Status Post(const json& batch, bool update) {
    std::string url = base_ + "/ngsi-ld/v1/entityOperations/upsert" + (update ? "?options=update" : "");
    std::string body = batch.dump();
    std::string answer;
    CURL* c = curl_.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_.get());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) return Unavailable(std::string("cannot reach the platform at ") + base_ + ": " + curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status == 201 || status == 204) return Status::Ok();
    if (status == 401 || status == 403) {
      return PermissionDenied("the platform refused the API key (HTTP " + std::to_string(status) +
                              "); it needs the scope ngsild.write");
    }
    if (status == 207) {
      json r = json::parse(answer, nullptr, false);
      if (r.is_object() && r.contains("errors") && r["errors"].is_array() && !r["errors"].empty()) {
        return Internal("the broker refused " + std::to_string(r["errors"].size()) + " of " +
                        std::to_string(batch.size()) + " entities, first: " + r["errors"][0].dump());
      }
      return Status::Ok();
    }
    return Unavailable("the platform answered HTTP " + std::to_string(status) + ": " + answer.substr(0, 300));
  }

  struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  std::string base_;
  size_t batch_;
  std::unique_ptr<CURL, CurlDeleter> curl_;
  std::unique_ptr<curl_slist, SlistDeleter> headers_;
};

class MqttFeed final : public CityFeed {
 public:
  MqttFeed(std::unique_ptr<mqtt_ingest::Publisher> publisher, std::unique_ptr<CityFeed> entities, std::string prefix)
      : publisher_(std::move(publisher)), entities_(std::move(entities)), prefix_(std::move(prefix)) {}

  Status SendEntities(const std::vector<json>& entities) override { return entities_->SendEntities(entities); }

  Status SendObservations(const citysim::CityModel&, std::vector<citysim::CityModel::Measurement>& ms) override {
    for (const auto& m : ms) {
      json payload = m.values;
      payload["t"] = m.at_ms;
      TL_RETURN_IF_ERROR(
          publisher_->Publish(prefix_ + "devices/" + DeviceIdOf(*m.sensor) + "/measurements", payload.dump(), 1));
    }
    return publisher_->Flush();
  }

 private:
  std::unique_ptr<mqtt_ingest::Publisher> publisher_;
  std::unique_ptr<CityFeed> entities_;
  std::string prefix_;
};

int64_t AttributeCount(const std::vector<citysim::CityModel::Measurement>& ms) {
  int64_t n = 0;
  for (const auto& m : ms) n += static_cast<int64_t>(m.values.size());
  return n;
}

}  // namespace

Result<std::unique_ptr<CityFeed>> NgsiLdHttpFeed(const std::string& base_url, const std::string& api_key,
                                                 size_t batch) {
  if (base_url.rfind("http://", 0) != 0 && base_url.rfind("https://", 0) != 0) {
    return InvalidArgument("must be an http:// or https:// URL", "url");
  }
  if (api_key.empty()) return InvalidArgument("an API key with the scope ngsild.write is needed", "api_key");
  if (batch < 1 || batch > 1000) return InvalidArgument("must be between 1 and 1000", "batch");
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto feed = std::make_unique<HttpFeed>(base, api_key, batch);
  TL_RETURN_IF_ERROR(feed->Ready());
  return std::unique_ptr<CityFeed>(std::move(feed));
}

Result<std::unique_ptr<CityFeed>> MqttMeasurementFeed(const std::string& mqtt_url, std::unique_ptr<CityFeed> entities,
                                                      const std::string& topic_prefix) {
  if (!topic_prefix.empty() && (topic_prefix.back() != '/' || topic_prefix.find_first_of("+#") != std::string::npos)) {
    return InvalidArgument("must be empty or end with '/', without wildcards", "mqtt_topic_prefix");
  }
  // A clean session under a client id of its own: two simulators never take each other's connection.
  TL_ASSIGN_OR_RETURN(auto publisher,
                      mqtt_ingest::Publisher::Connect(mqtt_url, "thanglong-simulate-city-" + crypto::RandomToken(6)));
  return std::unique_ptr<CityFeed>(
      std::make_unique<MqttFeed>(std::move(publisher), std::move(entities), topic_prefix));
}

std::string DeviceIdOf(const citysim::Sensor& sensor) { return sensor.id.substr(sensor.id.rfind(':') + 1); }

json DeviceRegistration(const citysim::Sensor& sensor, const std::string& owner_agency) {
  struct Attr {
    const char* name;
    const char* unit;
  };
  std::vector<Attr> attrs;
  switch (sensor.feed) {
    case citysim::Feed::kAir:
      attrs = {{"pm25", "GQ"}, {"pm10", "GQ"}, {"no2", "GQ"}, {"airQualityIndex", nullptr}, {"airQualityLevel", nullptr}};
      break;
    case citysim::Feed::kTraffic:
      attrs = {{"intensity", nullptr}, {"averageVehicleSpeed", "KMH"}, {"occupancy", nullptr}, {"congested", nullptr}};
      break;
    case citysim::Feed::kFlood:
      attrs = {{"currentLevel", "MTR"}, {"floodLevelStatus", nullptr}};
      break;
    case citysim::Feed::kParking:
      attrs = {{"availableSpotNumber", nullptr}, {"occupiedSpotNumber", nullptr}, {"occupancy", nullptr}};
      break;
    case citysim::Feed::kStreetlight:
      attrs = {{"powerState", nullptr}, {"status", nullptr}};
      break;
  }
  json a = json::object();
  for (const auto& at : attrs) {
    a[at.name] = at.unit ? json{{"name", at.name}, {"unitCode", at.unit}} : json(at.name);
  }
  return {{"id", DeviceIdOf(sensor)}, {"entity_id", sensor.id},     {"entity_type", sensor.type},
          {"tenant", ""},              {"owner_agency", owner_agency}, {"attributes", a}};
}

Result<CitySimulationReport> SimulateCity(const citysim::CityModel& city, CityFeed& feed,
                                          const CitySimulationOptions& o, const std::function<bool()>& stop,
                                          std::ostream& log) {
  using Steady = std::chrono::steady_clock;
  if (o.speed < 0 || !std::isfinite(o.speed)) return InvalidArgument("must be 0 (as fast as possible) or more", "speed");
  if (o.duration_ms && *o.duration_ms <= 0) return InvalidArgument("must be positive", "duration");
  CitySimulationReport report;
  const auto began = Steady::now();
  auto seconds_since = [](Steady::time_point t) { return std::chrono::duration<double>(Steady::now() - t).count(); };
  if (o.create) {
    std::vector<json> entities;
    entities.reserve(city.Sensors().size());
    for (const auto& s : city.Sensors()) entities.push_back(city.Entity(s, o.start_ms));
    TL_RETURN_IF_ERROR(feed.SendEntities(entities));
    report.entities = static_cast<int64_t>(entities.size());
    if (o.progress) {
      log << "upserted " << entities.size() << " sensors' entities as at " << FormatRfc3339(o.start_ms) << " in "
          << seconds_since(began) << " s\n";
    }
  }
  const int64_t end = o.duration_ms ? o.start_ms + *o.duration_ms : INT64_MAX;
  int64_t sim = o.start_ms;
  const auto run_start = Steady::now();
  auto last_progress = run_start;
  int64_t updates_at_last_progress = 0;
  std::vector<citysim::CityModel::Measurement> ms;
  while (sim < end && !stop()) {
    int64_t target;
    if (o.speed == 0) {
      target = std::min(end, sim + citysim::CityModel::kFiveMinutesMs);
    } else {
      double real_ms = std::chrono::duration<double, std::milli>(Steady::now() - run_start).count();
      double ahead = std::min(static_cast<double>(end - o.start_ms), real_ms * o.speed);
      target = o.start_ms + static_cast<int64_t>(ahead);
      if (target - sim < 1000 && target < end) {  // less than a simulated second to play: wait
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
    }
    ms.clear();
    city.StepMeasurements(sim, target, ms);
    if (!ms.empty()) {
      TL_RETURN_IF_ERROR(feed.SendObservations(city, ms));
      report.observations += static_cast<int64_t>(ms.size());
      report.attribute_updates += AttributeCount(ms);
    }
    sim = target;
    report.simulated_ms = sim - o.start_ms;
    if (o.progress && Steady::now() - last_progress >= std::chrono::seconds(5)) {
      double secs = std::chrono::duration<double>(Steady::now() - last_progress).count();
      log << "simulated up to " << FormatRfc3339(sim) << ": " << report.observations << " observations, "
          << std::lround((report.attribute_updates - updates_at_last_progress) / secs) << " attribute updates/s\n"
          << std::flush;
      last_progress = Steady::now();
      updates_at_last_progress = report.attribute_updates;
    }
  }
  report.seconds = seconds_since(began);
  return report;
}

}  // namespace tl::app
