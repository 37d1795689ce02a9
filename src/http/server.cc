#include "http/server.h"

#include <restinio/all.hpp>

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/worker_pool.h"

namespace tl::http {
namespace {

struct ConnectionCounter {
  std::atomic<int64_t> open{0};
  void state_changed(const restinio::connection_state::notice_t& notice) noexcept {
    const auto cause = notice.cause();
    if (restinio::get_if<restinio::connection_state::accepted_t>(&cause)) open++;
    else if (restinio::get_if<restinio::connection_state::closed_t>(&cause)) open--;
  }
};

struct Traits : public restinio::default_traits_t {
  using connection_state_listener_t = ConnectionCounter;
  static constexpr bool use_connection_count_limiter = true;
};

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace

// Handlers block on storage (a durable commit waits for fsync), so they do not run on the I/O threads:
// the I/O threads (`workers`, one RESTinio server each; the app's default is one per core but one, at
// least two) parse and write, and hand each request to this pool, whose threads run the Dispatcher and
// complete the response. More handlers than cores let group commit gather many writes into one
// fsync. Routes marked `quick` (short reads) and static files skip the pool and are answered on the
// I/O thread itself. The pool is a core/worker_pool.h WorkerPool (Post).

// A streamed response: the chunked-output builder of RESTinio, written under a lock from whichever
// thread the module writes on (RESTinio hands each flush to the connection's own executor). A failed
// write (the client went away) marks it closed; Close() sends the last chunk and lets go of the
// connection, so that nothing touches the I/O context once the server has stopped.
class ChunkedStream final : public Stream, public std::enable_shared_from_this<ChunkedStream> {
 public:
  explicit ChunkedStream(restinio::response_builder_t<restinio::chunked_output_t> builder)
      : builder_(std::move(builder)) {}
  ~ChunkedStream() override { Close(); }

  bool Write(std::string data) override {
    std::lock_guard lock(mu_);
    if (!open_.load()) return false;
    std::weak_ptr<ChunkedStream> self = weak_from_this();
    builder_->append_chunk(std::move(data));
    builder_->flush([self](const restinio::asio_ns::error_code& ec) {
      if (!ec) return;
      if (auto s = self.lock()) s->open_ = false;
    });
    return true;
  }
  bool open() const override { return open_.load(); }
  void Close() override {
    std::lock_guard lock(mu_);
    if (!builder_) return;
    open_ = false;
    try {
      builder_->done();
    } catch (...) {
    }
    builder_.reset();
  }

 private:
  std::mutex mu_;
  std::atomic<bool> open_{true};
  std::optional<restinio::response_builder_t<restinio::chunked_output_t>> builder_;
};

// The streams a server has open, so that shutting down can close them (weak: the module that writes
// to a stream owns it).
class OpenStreams {
 public:
  // False when the server is stopping (the stream is then closed at once).
  bool Add(const std::shared_ptr<Stream>& s) {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    std::erase_if(streams_, [](const std::weak_ptr<Stream>& w) { return w.expired(); });
    streams_.push_back(s);
    return true;
  }
  void CloseAll() {
    std::vector<std::weak_ptr<Stream>> streams;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      streams.swap(streams_);
    }
    for (auto& w : streams) {
      if (auto s = w.lock()) s->Close();
    }
  }

 private:
  std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::weak_ptr<Stream>> streams_;
};

struct Server::Impl {
  ServerOptions options;
  Dispatcher* dispatcher;
  std::shared_ptr<ConnectionCounter> connections = std::make_shared<ConnectionCounter>();
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint16_t> bound_port{0};
  std::unique_ptr<WorkerPool> pool;
  OpenStreams streams;
  std::vector<restinio::running_server_handle_t<Traits>> handles;
  bool stopped = false;

  void StopServers() {
    for (auto& h : handles) h->stop();
    for (auto& h : handles) h->wait();
    handles.clear();
  }

  restinio::request_handling_status_t HandleRequest(restinio::request_handle_t req) {
    in_flight++;
    bool over_capacity = connections->open.load() > static_cast<int64_t>(options.max_connections);
    if (dispatcher->IsQuick(req->header().method().c_str(), req->header().request_target())) {
      Respond(req, over_capacity);  // a short read: no hand-off to the pool and back
    } else {
      pool->Post([this, req = std::move(req), over_capacity] { Respond(req, over_capacity); });
    }
    return restinio::request_accepted();
  }

  void Respond(const restinio::request_handle_t& req, bool over_capacity) {
    RawRequest raw;
    raw.method = req->header().method().c_str();
    raw.target = std::string(req->header().request_target());
    for (const auto& f : req->header()) {
      std::string name(f.name());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      raw.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    raw.body = std::string(req->body());
    raw.client_ip = req->remote_endpoint().address().to_string();
    raw.over_capacity = over_capacity;
    dispatcher->Handle(std::move(raw), [this, req](Response resp) { Send(req, std::move(resp)); });
  }

  void Send(const restinio::request_handle_t& req, Response resp) {
    if (resp.stream) {
      SendStream(req, std::move(resp));
      return;
    }
    auto builder = req->create_response(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<std::uint16_t>(resp.status)}, ReasonPhrase(resp.status)});
    if (!resp.content_type.empty()) builder.append_header(restinio::http_field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) builder.append_header(k, v);
    if (resp.status == 503) builder.connection_close();
    builder.set_body(std::move(resp.body));
    builder.done();
    in_flight--;
  }

  void SendStream(const restinio::request_handle_t& req, Response resp) {
    auto builder = req->create_response<restinio::chunked_output_t>(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<std::uint16_t>(resp.status)}, ReasonPhrase(resp.status)});
    if (!resp.content_type.empty()) builder.append_header(restinio::http_field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) builder.append_header(k, v);
    builder.flush();  // the status line and headers, now
    auto stream = std::make_shared<ChunkedStream>(std::move(builder));
    in_flight--;  // from here on the stream is the module's; shutdown closes it through `streams`
    if (!streams.Add(stream)) {
      stream->Close();
      return;
    }
    try {
      resp.stream(stream);
    } catch (...) {
      stream->Close();
    }
  }
};

Server::Server(ServerOptions options, Dispatcher* dispatcher) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->dispatcher = dispatcher;
}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

namespace {

// True when something else listens on host:port (a plain bind, without SO_REUSEPORT, fails). The
// listeners below share their port with SO_REUSEPORT, which would also let them join the group of
// another process of the same user on that port and take half its connections: refused instead.
bool PortTaken(const std::string& host, uint16_t port) {
  restinio::asio_ns::io_context io;
  restinio::asio_ns::ip::tcp::acceptor probe(io);
  restinio::asio_ns::error_code ec;
  auto address = restinio::asio_ns::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return false;  // a name: RESTinio resolves it and reports its own error
  restinio::asio_ns::ip::tcp::endpoint endpoint(address, port);
  probe.open(endpoint.protocol(), ec);
  if (ec) return false;
  // As the listeners do: connections of an earlier run left in TIME_WAIT do not count, a listener does.
  probe.set_option(restinio::asio_ns::ip::tcp::acceptor::reuse_address(true), ec);
  probe.bind(endpoint, ec);
  return ec == restinio::asio_ns::error::address_in_use;
}

}  // namespace

Status Server::Start() {
  Impl* impl = impl_.get();
  const auto& o = impl->options;
  if (o.port != 0 && PortTaken(o.host, o.port)) {
    return Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": the address is in use");
  }
  impl->pool = std::make_unique<WorkerPool>(o.handler_threads, "tl-http-handler");
  // One RESTinio server per I/O thread, each with its own io_context and listening socket on the same
  // port (SO_REUSEPORT: the kernel spreads new connections over them). One io_context run by several
  // threads (RESTinio's thread pool), the design before 2026-11-24, made every request pass the
  // scheduler's mutex and wake threads: ~60 µs of CPU per quick read against ~40 on one thread, and
  // more CPU than these servers for the same load (docs/benchmarks-ngsild.md).
  for (int i = 0; i < std::max(1, o.workers); ++i) {
    restinio::server_settings_t<Traits> settings;
    settings.address(o.host)
        .port(i == 0 ? o.port : impl->bound_port.load())  // port 0: the others join the one the first got
        .request_handler([impl](restinio::request_handle_t req) { return impl->HandleRequest(std::move(req)); })
        .read_next_http_message_timelimit(o.request_timeout)
        .handle_request_timeout(o.request_timeout)
        .write_http_response_timelimit(o.request_timeout)
        .max_parallel_connections(o.max_connections * 2)
        .connection_state_listener(impl->connections)
        .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                      .max_url_size(o.max_url_bytes)
                                      .max_field_name_size(1024)
                                      .max_field_value_size(o.max_header_bytes)
                                      .max_field_count(100)
                                      .max_body_size(o.max_body_bytes))
        .acceptor_options_setter([](restinio::acceptor_options_t& options) {
          options.set_option(restinio::asio_ns::ip::tcp::acceptor::reuse_address(true));
          options.set_option(restinio::asio_ns::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
        })
        .acceptor_post_bind_hook([impl](restinio::asio_ns::ip::tcp::acceptor& acceptor) {
          impl->bound_port = acceptor.local_endpoint().port();
        })
        .cleanup_func([] {});
    try {
      impl->handles.push_back(restinio::run_async(restinio::own_io_context(), std::move(settings), 1));
    } catch (const std::exception& e) {
      impl->StopServers();
      return Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + e.what());
    }
  }
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->bound_port.load(); }
int64_t Server::open_connections() const { return impl_->connections->open.load(); }

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (!impl_ || impl_->stopped || impl_->handles.empty()) return;
  impl_->stopped = true;
  impl_->dispatcher->SetDraining(true);
  impl_->streams.CloseAll();  // streams never end by themselves: end them now
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Let the last responses leave the socket buffers.
  if (grace.count() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  impl_->StopServers();
  // A deferred response (answered after a durable write) still holds this server: wait for the last
  // ones before the server goes away; the store's writer keeps completing them meanwhile.
  auto last_call = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < last_call) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->pool.reset();  // joins the handler threads once their last jobs are done
}

Status ParseListen(const std::string& listen, std::string* host, uint16_t* port, std::string_view field) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= listen.size()) {
    return InvalidArgument("expected HOST:PORT, e.g. 127.0.0.1:8080", std::string(field));
  }
  std::string p = listen.substr(colon + 1);
  for (char c : p) {
    if (c < '0' || c > '9') return InvalidArgument("the port must be a number", std::string(field));
  }
  long v = std::stol(p);
  if (v < 0 || v > 65535) return InvalidArgument("the port must be 0-65535", std::string(field));
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  *port = static_cast<uint16_t>(v);
  return Status::Ok();
}

}  // namespace tl::http
