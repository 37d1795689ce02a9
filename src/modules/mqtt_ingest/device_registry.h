// The device registry: which entity a device's compact MQTT measurements update (docs/mqtt.md).
//
// Contract:
// - Table (migration 1040): mqtt_devices (device_id) → tenant, entity id, entity type (expanded),
//   attributes (JSON text: short name → {"name": expanded NGSI-LD attribute name, "unitCode"?}),
//   owner agency, created_at (Unix ms), disabled (0/1). Everything is in the database, so every
//   `thanglong serve` process over one PostgreSQL sees the same devices at once.
// - Input (FromJson): {"id", "entity_id", "entity_type", "attributes": {"<short>": "<name>" |
//   {"name", "unitCode"?}}, "tenant"?, "owner_agency"?, "disabled"?}. Types and attribute names are
//   terms or compact IRIs of the Smart Data Models context the broker holds, or absolute IRIs; they
//   are stored expanded and shown compacted. Every error is InvalidArgument naming the field
//   (prefixed by `field_prefix`, e.g. "devices[3].entity_id").
// - Authorisation: city_admin registers for any agency; an operator only for agencies in its
//   jurisdiction (owner agency defaults to the caller's). Register, RegisterBatch and Delete append
//   an audit entry in their transaction. RegisterBatch replaces devices that exist (idempotent for the
//   simulator), all or nothing.
// - LoadMany() is the ingester's look-up: one indexed read per batch of messages, no cache, so a
//   device deleted or disabled in one process stops being applied by every process.
//
// Thread-safety: safe to share; all state is in the database.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/http.h"
#include "modules/audit/audit_log.h"
#include "modules/ngsild/context.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace tl::mqtt_ingest {

inline constexpr size_t kMaxDeviceAttributes = 100;
inline constexpr size_t kMaxDevicesPerBatch = 10000;
inline constexpr int kMaxDeviceListLimit = 1000;

struct DeviceAttribute {
  std::string name;       // expanded NGSI-LD attribute name
  std::string unit_code;  // UN/CEFACT code, may be empty
};

struct Device {
  std::string id;
  std::string tenant;       // "" : the default tenant
  std::string entity_id;
  std::string entity_type;  // expanded
  std::map<std::string, DeviceAttribute> attributes;  // short name → attribute
  std::string owner_agency;
  int64_t created_at_ms = 0;
  bool disabled = false;
};

// Device ids and short attribute names: letters, digits and "._:-", 1 to 100 bytes (no MQTT wildcards
// or level separators).
bool IsDeviceName(std::string_view s);

class DeviceRegistry {
 public:
  DeviceRegistry(storage::Database* db, const Clock* clock, const audit::AuditLog* audit,
                 std::shared_ptr<const ngsild::ContextRegistry> contexts);
  static std::vector<storage::Migration> Migrations();

  // The context names are expanded and compacted with (the Smart Data Models term map).
  const ngsild::Context& context() const { return *ctx_; }

  // Validates one registration (see the header's contract); `field_prefix` prefixes error fields.
  Result<Device> FromJson(const nlohmann::json& j, const std::string& field_prefix = "") const;
  nlohmann::json ToJson(const Device& d) const;

  // `caller` is checked against the owner agency (nullptr: the CLI or a test, allowed).
  Result<Device> Register(Device d, const http::Principal* caller, const audit::Entry& ctx) const;
  // Inserts or replaces every device in one transaction; returns (created, replaced).
  Result<std::pair<int64_t, int64_t>> RegisterBatch(std::vector<Device> devices, const http::Principal* caller,
                                                    const audit::Entry& ctx) const;
  Result<Device> Get(const std::string& id, const http::Principal* caller) const;
  Status Delete(const std::string& id, const http::Principal* caller, const audit::Entry& ctx) const;
  // Devices in id order after `after`, at most `limit`; only the caller's jurisdiction's for operators.
  Result<std::vector<Device>> List(const std::string& after, int limit, const http::Principal* caller) const;
  // The registered devices among `ids` (disabled ones included), by id.
  Result<std::unordered_map<std::string, Device>> LoadMany(const std::vector<std::string>& ids) const;

 private:
  Status CheckOwner(const std::string& agency, const http::Principal* caller) const;
  Status Upsert(storage::Session& s, Device& d, bool replace, bool* created) const;

  storage::Database* db_;
  const Clock* clock_;
  const audit::AuditLog* audit_;
  std::shared_ptr<const ngsild::ContextRegistry> contexts_;
  std::shared_ptr<const ngsild::Context> ctx_;
};

// GET/POST /api/v1/devices, POST /api/v1/devices:batch, GET/DELETE /api/v1/devices/{id}
// (city_admin, operator).
std::vector<http::Route> Routes(DeviceRegistry* registry);

}  // namespace tl::mqtt_ingest
