#include "app/service_index_feed.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/civil_date.h"
#include "modules/ngsild/entity.h"

namespace tl::app {
namespace {

using nlohmann::json;

constexpr int64_t kHanoiOffsetMs = 7LL * 3600 * 1000;

json Observed(const json& value, const std::string& at) {
  return {{"type", "Property"}, {"value", value}, {"observedAt", at}};
}

}  // namespace

Result<std::map<std::string, std::pair<double, double>>> LoadUnitLocations(const std::string& path) {
  std::map<std::string, std::pair<double, double>> out;
  std::ifstream in(path);
  if (!in) return out;
  json doc = json::parse(in, nullptr, false);
  if (!doc.is_object() || !doc.contains("features") || !doc["features"].is_array()) {
    return InvalidArgument(path + " is not a GeoJSON FeatureCollection", "unit_locations");
  }
  for (const auto& f : doc["features"]) {
    if (!f.is_object()) continue;
    const json* props = f.contains("properties") ? &f["properties"] : nullptr;
    const json* geo = f.contains("geometry") ? &f["geometry"] : nullptr;
    if (!props || !props->is_object() || !props->contains("code") || !(*props)["code"].is_string()) continue;
    std::pair<double, double> point;
    if (geo && geo->is_object() && geo->value("type", "") == "Point" && (*geo)["coordinates"].size() >= 2) {
      point = {(*geo)["coordinates"][0].get<double>(), (*geo)["coordinates"][1].get<double>()};
    } else if (props->contains("centroid") && (*props)["centroid"].is_array() && (*props)["centroid"].size() >= 2) {
      point = {(*props)["centroid"][0].get<double>(), (*props)["centroid"][1].get<double>()};
    } else {
      continue;
    }
    out[(*props)["code"].get<std::string>()] = point;
  }
  return out;
}

Result<int> ServiceIndexFeed::Refresh() {
  int64_t now = clock_->NowMillis();
  CivilDate today = CivilDateFromDays((now + kHanoiOffsetMs) / 86'400'000);
  std::string from = FormatCivilDate({today.year, 1, 1}), to = FormatCivilDate(today);
  TL_ASSIGN_OR_RETURN(json ranking, index_->Ranking(from, to));
  TL_ASSIGN_OR_RETURN(auto communes, units_->List(std::string("01")));
  std::map<std::string, const json*> by_unit;
  for (const auto& item : ranking["items"]) by_unit[item["unit"].get<std::string>()] = &item;
  std::string at = FormatRfc3339(now);
  std::vector<ngsild::BatchItem> items;
  items.reserve(communes.size());
  for (const auto& unit : communes) {
    json e = {{"id", std::string("urn:ngsi-ld:") + kType + ":" + unit.code},
              {"type", kType},
              {"name", {{"type", "Property"}, {"value", unit.name}}},
              {"administrativeUnitCode", {{"type", "Property"}, {"value", unit.code}}},
              {"period", {{"type", "Property"}, {"value", {{"from", from}, {"to", to}}}}}};
    auto it = by_unit.find(unit.code);
    const json* r = it == by_unit.end() ? nullptr : it->second;
    e["score"] = Observed(r ? (*r)["score_100"] : json(nullptr), at);
    if (e["score"]["value"].is_null()) e.erase("score");
    e["receivedDossiers"] = Observed(r ? (*r)["received"].get<int64_t>() : 0, at);
    e["resolvedDossiers"] = Observed(r ? (*r)["resolved"].get<int64_t>() : 0, at);
    e["openDossiers"] = Observed(r ? (*r)["open"].get<int64_t>() : 0, at);
    e["overdueDossiers"] = Observed(r ? (*r)["overdue"].get<int64_t>() : 0, at);
    if (r && (*r)["on_time_rate"].is_number()) e["onTimeRate"] = Observed((*r)["on_time_rate"], at);
    if (r) e["rank"] = Observed((*r)["rank"], at);
    auto loc = locations_.find(unit.code);
    if (loc != locations_.end()) {
      e["location"] = {{"type", "GeoProperty"},
                       {"value", {{"type", "Point"}, {"coordinates", {loc->second.first, loc->second.second}}}}};
    }
    ngsild::BatchItem item;
    item.id = e["id"];
    auto expanded = ngsild::ExpandPayload(e, *context_, ngsild::PayloadKind::kEntity);
    if (!expanded.ok()) return expanded.status();
    item.doc = std::move(*expanded);
    items.push_back(std::move(item));
  }
  if (items.empty()) return 0;
  TL_ASSIGN_OR_RETURN(auto result, store_->BatchUpsert("", std::move(items), ngsild::UpsertMode::kUpdate));
  if (!result.errors.empty()) {
    return Internal("the service index entities were refused: " + result.errors.front().error.ToString());
  }
  return static_cast<int>(result.success.size());
}

void ServiceIndexFeed::Start(std::chrono::milliseconds interval) {
  auto refresh = [this] {
    auto n = Refresh();
    if (!n.ok()) spdlog::warn(R"("msg":"service index feed failed","error":"{}")", n.status().ToString());
  };
  refresh();
  task_.Start(interval, refresh, /*background=*/false, "tl-index-feed");
}

}  // namespace tl::app
