// The libmosquitto side shared by the Publisher and the Ingester: library initialisation, URLs, the
// RAII handle, and the Publisher itself.
#include <mosquitto.h>

#include <condition_variable>
#include <mutex>

#include "core/crypto.h"
#include "modules/mqtt_ingest/client_internal.h"
#include "modules/mqtt_ingest/mqtt_ingest.h"

namespace tl::mqtt_ingest {

void MosquittoDeleter::operator()(mosquitto* m) const { mosquitto_destroy(m); }

Status InitMosquitto() {
  static std::once_flag once;  // mosquitto_lib_init is process-wide and not reentrant
  static int rc = MOSQ_ERR_SUCCESS;
  std::call_once(once, [] { rc = mosquitto_lib_init(); });
  if (rc != MOSQ_ERR_SUCCESS) return Internal(std::string("libmosquitto: ") + mosquitto_strerror(rc));
  return Status::Ok();
}

Result<MqttUrl> MqttUrl::Parse(std::string_view url) {
  std::string_view rest;
  if (url.rfind("mqtt://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("tcp://", 0) == 0) {
    rest = url.substr(6);
  } else {
    return InvalidArgument("must be mqtt://host:port", "mqtt_url");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  MqttUrl u;
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
    std::string port(rest.substr(colon + 1));
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 1 || p > 65535) return InvalidArgument("bad port", "mqtt_url");
    u.port = static_cast<int>(p);
    rest = rest.substr(0, colon);
  }
  if (rest.empty() || rest.find_first_of("/@?# ") != std::string_view::npos) {
    return InvalidArgument("must be mqtt://host:port", "mqtt_url");
  }
  u.host = std::string(rest);
  return u;
}

// ---------------------------------------------------------------------------------------------------
// Publisher

struct Publisher::State {
  std::mutex mu;
  std::condition_variable cv;
  int64_t published = 0;
  int64_t delivered = 0;
  int connack = -1;  // -1: no answer yet
  MosquittoHandle mosq;
  bool loop_started = false;

  ~State() {
    if (mosq) {
      mosquitto_disconnect(mosq.get());
      if (loop_started) mosquitto_loop_stop(mosq.get(), false);
    }
  }
};

namespace {

void PublisherOnConnect(mosquitto*, void* obj, int rc) {
  auto* st = static_cast<Publisher::State*>(obj);
  std::lock_guard lock(st->mu);
  st->connack = rc;
  st->cv.notify_all();
}

void PublisherOnPublish(mosquitto*, void* obj, int) {
  auto* st = static_cast<Publisher::State*>(obj);
  std::lock_guard lock(st->mu);
  st->delivered++;
  st->cv.notify_all();
}

}  // namespace

Result<std::unique_ptr<Publisher>> Publisher::Connect(const std::string& url, const std::string& client_id,
                                                      std::chrono::milliseconds timeout) {
  TL_RETURN_IF_ERROR(InitMosquitto());
  TL_ASSIGN_OR_RETURN(MqttUrl u, MqttUrl::Parse(url));
  auto state = std::make_shared<State>();
  std::string id = client_id.empty() ? "thanglong-pub-" + crypto::RandomToken(9) : client_id;
  state->mosq.reset(mosquitto_new(id.c_str(), true, state.get()));
  if (!state->mosq) return Internal("libmosquitto: cannot create a client");
  mosquitto* m = state->mosq.get();
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_max_inflight_messages_set(m, 200);
  mosquitto_reconnect_delay_set(m, 1, 30, true);
  mosquitto_connect_callback_set(m, PublisherOnConnect);
  mosquitto_publish_callback_set(m, PublisherOnPublish);
  int rc = mosquitto_connect_async(m, u.host.c_str(), u.port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Unavailable("cannot connect to the MQTT broker at " + url + ": " + mosquitto_strerror(rc));
  }
  rc = mosquitto_loop_start(m);
  if (rc != MOSQ_ERR_SUCCESS) return Internal(std::string("libmosquitto: ") + mosquitto_strerror(rc));
  state->loop_started = true;
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_for(lock, timeout, [&] { return state->connack >= 0; })) {
    return Unavailable("the MQTT broker at " + url + " did not answer");
  }
  if (state->connack != 0) {
    return Unavailable("the MQTT broker at " + url + " refused the connection: " +
                       mosquitto_connack_string(state->connack));
  }
  lock.unlock();
  return std::unique_ptr<Publisher>(new Publisher(std::move(state)));
}

Publisher::~Publisher() {
  Flush(std::chrono::seconds(5)).IgnoreError();
}

Status Publisher::Publish(const std::string& topic, std::string_view payload, int qos) {
  if (qos < 0 || qos > 2) return InvalidArgument("QoS is 0, 1 or 2", "qos");
  {
    std::lock_guard lock(state_->mu);
    state_->published++;
  }
  int rc = mosquitto_publish(state_->mosq.get(), nullptr, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, false);
  if (rc != MOSQ_ERR_SUCCESS) {
    std::lock_guard lock(state_->mu);
    state_->published--;
    if (rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_PAYLOAD_SIZE) {
      return InvalidArgument(std::string("cannot publish: ") + mosquitto_strerror(rc), "topic");
    }
    return Unavailable(std::string("cannot publish: ") + mosquitto_strerror(rc));
  }
  return Status::Ok();
}

Status Publisher::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  if (!state_->cv.wait_for(lock, timeout, [&] { return state_->delivered >= state_->published; })) {
    return Unavailable(std::to_string(state_->published - state_->delivered) +
                       " messages not yet acknowledged by the MQTT broker");
  }
  return Status::Ok();
}

int64_t Publisher::published() const {
  std::lock_guard lock(state_->mu);
  return state_->published;
}

int64_t Publisher::delivered() const {
  std::lock_guard lock(state_->mu);
  return state_->delivered;
}

}  // namespace tl::mqtt_ingest
