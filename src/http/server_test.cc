// The socket layer with a real server on an ephemeral loopback port: streamed responses (chunked
// transfer coding, written from another thread) and their end when the server shuts down.
#include "http/server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/metrics.h"

namespace tl::http {
namespace {

// A raw client socket that reads what arrives until a marker shows up (or the server closes).
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { (void)!::write(fd_, bytes.data(), bytes.size()); }
  // Reads until `marker` is in what was received, the peer closes, or 10 s pass (a guard against a
  // hang, not a measurement). Returns everything received so far.
  const std::string& ReadUntil(const std::string& marker) {
    for (int waited = 0; received_.find(marker) == std::string::npos && !closed_ && waited < 100; ++waited) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) closed_ = true;
      else received_.append(buf, static_cast<size_t>(n));
    }
    return received_;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

// The module side: keeps the streams it is given and writes to them from its own thread.
struct Streams {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<Stream>> open;
  std::shared_ptr<Stream> WaitForOne() {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return !open.empty(); });
    return open.empty() ? nullptr : open.back();
  }
};

class ServerStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Route> routes;
    routes.push_back({Method::kGet, "/api/v1/stream", Access::Public(),
                      [this](Request&) -> Result<Response> {
                        Response r = Response::Streaming("text/event-stream", [this](std::shared_ptr<Stream> s) {
                          s->Write(": hello\n\n");
                          std::lock_guard lock(streams_.mu);
                          streams_.open.push_back(std::move(s));
                          streams_.cv.notify_all();
                        });
                        r.headers.emplace_back("X-Accel-Buffering", "no");
                        return r;
                      },
                      {}});
    routes.push_back({Method::kGet, "/api/v1/plain", Access::Public(),
                      [](Request&) -> Result<Response> { return Response::Json(200, R"({"ok":true})"); }, {}});
    ASSERT_TRUE(dispatcher_.AddRoutes(std::move(routes)).ok());
    ServerOptions o;
    o.port = 0;
    o.workers = 1;
    o.handler_threads = 2;
    server_ = std::make_unique<Server>(o, &dispatcher_);
    ASSERT_TRUE(server_->Start().ok());
  }
  Metrics metrics_;
  Dispatcher dispatcher_{DispatcherOptions{1024, 1024, false}, &metrics_};
  Streams streams_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerStreamTest, AStreamSendsHeadersAtOnceThenChunksWrittenFromAnotherThread) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string& head = c.ReadUntil(": hello\n\n");
  EXPECT_NE(head.find("HTTP/1.1 200 OK"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Accel-Buffering: no"), std::string::npos) << head;
  EXPECT_NE(head.find("Cache-Control: no-store"), std::string::npos) << head;  // the dispatcher's headers too
  auto s = streams_.WaitForOne();
  ASSERT_NE(s, nullptr);
  std::thread writer([s] { EXPECT_TRUE(s->Write("data: one\n\n")); });
  writer.join();
  EXPECT_NE(c.ReadUntil("data: one\n\n").find("data: one\n\n"), std::string::npos);
  EXPECT_TRUE(s->open());
  EXPECT_NE(metrics_.Render().find("/api/v1/stream"), std::string::npos);  // recorded at its opening
  // The module ends the stream: the last chunk goes out.
  s->Close();
  EXPECT_FALSE(s->open());
  EXPECT_FALSE(s->Write("data: late\n\n"));
  EXPECT_NE(c.ReadUntil("\r\n0\r\n\r\n").find("\r\n0\r\n\r\n"), std::string::npos);
}

TEST_F(ServerStreamTest, ShutdownEndsOpenStreamsWhileOtherRequestsStillWork) {
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil(": hello\n\n");
  auto s = streams_.WaitForOne();
  ASSERT_NE(s, nullptr);
  RawClient other(server_->port());
  other.Send("GET /api/v1/plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(other.ReadUntil(R"({"ok":true})").find(R"({"ok":true})"), std::string::npos);

  server_->Shutdown(std::chrono::milliseconds(2000));
  EXPECT_FALSE(s->open());  // the module learns it should stop writing
  EXPECT_FALSE(s->Write("data: after\n\n"));
  const std::string& all = c.ReadUntil("\r\n0\r\n\r\n");
  EXPECT_NE(all.find("\r\n0\r\n\r\n"), std::string::npos) << all;
  EXPECT_EQ(all.find("data: after"), std::string::npos);
}

TEST_F(ServerStreamTest, AClientThatGoesAwayClosesItsStream) {
  std::shared_ptr<Stream> s;
  {
    RawClient c(server_->port());
    c.Send("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n");
    c.ReadUntil(": hello\n\n");
    s = streams_.WaitForOne();
    ASSERT_NE(s, nullptr);
  }  // the client closes its socket
  // Writes into a socket the peer closed fail within a few attempts (the first may still be buffered).
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    failed = !s->Write(": ping\n\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(failed);
  EXPECT_FALSE(s->open());
}

// Listening IPv4 sockets on `port` (/proc/net/tcp: state 0A is LISTEN).
int ListenersOn(uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  int n = 0;
  char wanted[8];
  snprintf(wanted, sizeof wanted, ":%04X", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state == "0A" && local.size() > 5 && local.substr(local.size() - 5) == wanted) n++;
  }
  return n;
}

// Options of a server on a free loopback port with `workers` I/O threads.
ServerOptions OnAFreePort(int workers) {
  ServerOptions o;
  o.port = 0;
  o.workers = workers;
  o.handler_threads = 2;
  return o;
}

// Several I/O threads: one server each on one port. Connections spread over them, each answered.
TEST(ServerTest, EveryIoThreadsServerAnswersOnTheOnePort) {
  Metrics metrics;
  Dispatcher dispatcher{DispatcherOptions{1024, 1024, false}, &metrics};
  std::vector<Route> routes;
  routes.push_back({Method::kGet,
                    "/api/v1/plain",
                    Access::Public(),
                    [](Request&) -> Result<Response> { return Response::Json(200, R"({"ok":true})"); },
                    {}});
  ASSERT_TRUE(dispatcher.AddRoutes(std::move(routes)).ok());
  Server server(OnAFreePort(3), &dispatcher);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(ListenersOn(server.port()), 3);  // all on the port the first one got
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 24; ++i) {
    clients.push_back(std::make_unique<RawClient>(server.port()));
    ASSERT_TRUE(clients.back()->connected());
    clients.back()->Send("GET /api/v1/plain HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  for (auto& c : clients) EXPECT_NE(c->ReadUntil(R"({"ok":true})").find(R"({"ok":true})"), std::string::npos);
  EXPECT_EQ(server.open_connections(), 24);
  clients.clear();
  server.Shutdown(std::chrono::milliseconds(100));
}

// SO_REUSEPORT would let a second server join the first one's port and take half its connections: a
// port something already listens on is refused, as a plain bind would be.
TEST(ServerTest, APortAnotherServerListensOnIsRefused) {
  Metrics metrics;
  Dispatcher dispatcher{DispatcherOptions{1024, 1024, false}, &metrics};
  ServerOptions o = OnAFreePort(2);
  Server first(o, &dispatcher);
  ASSERT_TRUE(first.Start().ok());
  o.port = first.port();
  Server second(o, &dispatcher);
  Status st = second.Start();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("in use"), std::string::npos) << st.message();
  // The first still answers, and once it has stopped the port can be taken again.
  RawClient c(first.port());
  c.Send("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(c.ReadUntil("\r\n\r\n").find("HTTP/1.1 404"), std::string::npos);
  first.Shutdown(std::chrono::milliseconds(0));
  Server third(o, &dispatcher);
  EXPECT_TRUE(third.Start().ok());
  third.Shutdown(std::chrono::milliseconds(0));
}

}  // namespace
}  // namespace tl::http
