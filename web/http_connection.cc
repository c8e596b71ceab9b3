#include "web/http_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/logger.h"
#include "web/tls_context.h"

namespace vigil::web {
namespace {

using Clock = std::chrono::steady_clock;

// Threads that served a connection wait this long for another before exiting.
constexpr auto kThreadIdleLinger = std::chrono::seconds(10);
// Longest single poll(), so a stopping server is noticed promptly.
constexpr int kPollSliceMs = 200;
// Longest time spent draining an unread request body after answering.
constexpr auto kMaxDrain = std::chrono::seconds(10);

struct ConnectionState {
  bool close_after_response = false;
};
thread_local ConnectionState* current_connection = nullptr;

int MillisUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, kPollSliceMs));
}

// Waits for `events` on `sock` until `deadline`, giving up when the server stops.
bool WaitFor(const HttpConnectionServer& server, int sock, short events,
             Clock::time_point deadline) {
  while (!server.stopping()) {
    pollfd p{sock, events, 0};
    const int wait_ms = MillisUntil(deadline);
    const int n = ::poll(&p, 1, wait_ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
    if (n == 0 && wait_ms == 0) return false;
  }
  return false;
}

std::string PeerAddress(const sockaddr_storage& addr, int* port) {
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> serv{};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), host.data(), host.size(),
                  serv.data(), serv.size(), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "";
  }
  *port = std::atoi(serv.data());
  return host.data();
}

// A socket stream whose reads all share one deadline per request, however the
// client spaces its bytes (httplib's own stream times out each wait only).
class DeadlineStream final : public httplib::Stream {
 public:
  // `ssl` (optional): the connection's TLS session, after its handshake.
  DeadlineStream(const HttpConnectionServer& server, int sock, SSL* ssl)
      : server_(server), sock_(sock), ssl_(ssl), deadline_(Clock::now() + ReadTimeout()) {}

  // Starts the next request's read deadline.
  void RestartDeadline() { deadline_ = Clock::now() + ReadTimeout(); }
  Clock::time_point deadline() const { return deadline_; }
  bool has_buffered() const { return buffered_ > 0 || (ssl_ != nullptr && SSL_pending(ssl_) > 0); }

  // Waits up to the idle timeout for the first byte of another request.
  bool WaitForNextRequest() const {
    if (has_buffered()) return true;
    const auto idle = Clock::now() + std::chrono::milliseconds(server_.limits().idle_timeout_ms);
    return WaitFor(server_, sock_, POLLIN, idle);
  }

  bool is_readable() const override {
    if (has_buffered() || WaitFor(server_, sock_, POLLIN, deadline_)) return true;
    timed_out_ = true;  // or the server is stopping: either way, the end
    return false;
  }
  // Whether a read gave up at the deadline: the connection is done, as in Go.
  bool timed_out() const { return timed_out_; }

  bool is_writable() const override {
    const auto limit = Clock::now() + std::chrono::milliseconds(server_.limits().write_timeout_ms);
    return WaitFor(server_, sock_, POLLOUT, limit);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered()) {
      if (!is_readable()) return -1;
      const ssize_t n = Receive();
      if (n <= 0) return n;
    }
    const size_t n = std::min(size, buffered_);
    std::memcpy(ptr, buffer_.data() + offset_, n);
    offset_ += n;
    buffered_ -= n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    if (ssl_ != nullptr) return WriteTls(ptr, size);
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip = PeerAddress(addr, &port);
    }
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ip = PeerAddress(addr, &port);
    }
  }

  socket_t socket() const override { return sock_; }

 private:
  std::chrono::milliseconds ReadTimeout() const {
    return std::chrono::milliseconds(server_.limits().read_timeout_ms);
  }

  ssize_t Receive() {
    ssize_t n;
    if (ssl_ != nullptr) {
      n = ReadTls();
    } else {
      do {
        n = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      } while (n < 0 && errno == EINTR);
    }
    offset_ = 0;
    buffered_ = n > 0 ? static_cast<size_t>(n) : 0;
    return n;
  }

  // Waits as OpenSSL asks after `ret`; false when the call failed for good.
  bool WaitForTls(int ret, Clock::time_point deadline) const {
    const int error = SSL_get_error(ssl_, ret);
    if (error == SSL_ERROR_WANT_READ) return WaitFor(server_, sock_, POLLIN, deadline);
    if (error == SSL_ERROR_WANT_WRITE) return WaitFor(server_, sock_, POLLOUT, deadline);
    return false;
  }

  ssize_t ReadTls() {
    while (true) {
      const int n = SSL_read(ssl_, buffer_.data(), static_cast<int>(buffer_.size()));
      if (n > 0) return n;
      if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) return 0;
      if (!WaitForTls(n, deadline_)) {
        ERR_clear_error();
        return -1;
      }
    }
  }

  ssize_t WriteTls(const char* ptr, size_t size) {
    const auto limit = Clock::now() + std::chrono::milliseconds(server_.limits().write_timeout_ms);
    while (true) {
      const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
      if (n > 0) return n;
      if (!WaitForTls(n, limit)) {
        ERR_clear_error();
        return -1;
      }
    }
  }

  const HttpConnectionServer& server_;
  const int sock_;
  SSL* const ssl_;
  Clock::time_point deadline_;
  mutable bool timed_out_ = false;
  std::array<char, 16 * 1024> buffer_{};
  size_t offset_ = 0;
  size_t buffered_ = 0;
};

// After a response that left the request body unread: the client may still
// be sending it (or its first bytes may not have arrived yet). Closing now
// would reset the connection before the client read the answer, so signal
// the end of the answer (FIN) and read and drop input until the client closes,
// within the read deadline and at most kMaxDrain.
void DrainUnreadInput(const HttpConnectionServer& server, int sock,
                      Clock::time_point read_deadline) {
  ::shutdown(sock, SHUT_WR);
  const auto deadline = std::min(read_deadline, Clock::now() + kMaxDrain);
  std::array<char, 64 * 1024> sink{};
  while (WaitFor(server, sock, POLLIN, deadline)) {
    const ssize_t n = ::recv(sock, sink.data(), sink.size(), 0);
    if (n == 0 || (n < 0 && errno != EINTR)) return;
  }
}

struct FreeSsl {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, FreeSsl>;

std::string PeerOf(int sock) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  int port = 0;
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown";
  const std::string host = PeerAddress(addr, &port);
  return host + ":" + std::to_string(port);
}

std::string TlsErrorText() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "connection closed";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown error";
}

// A client speaking plain HTTP to the TLS port gets Go's answer (a TLS
// handshake starts with a record of type 22; a request with a method's letter).
Status RefusePlainHttp(const HttpConnectionServer& server, int sock, Clock::time_point deadline) {
  if (!WaitFor(server, sock, POLLIN, deadline)) return Status::OK();  // the handshake times out
  char first = 0;
  if (::recv(sock, &first, 1, MSG_PEEK) != 1 || first < 'A' || first > 'Z') return Status::OK();
  static constexpr char kAnswer[] =
      "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
  (void)::send(sock, kAnswer, sizeof kAnswer - 1, MSG_NOSIGNAL);
  return Status::InvalidArgument("client sent an HTTP request to an HTTPS server");
}

// The server side of a TLS handshake on `sock`, within the read timeout, as
// Go's http.Server; the socket becomes non-blocking (all waits are poll()s).
Result<SslPtr> AcceptTls(const HttpConnectionServer& server, int sock, const LoadedWebConfig& web) {
  if (!web.tls) return Status::InvalidArgument("TLS config is not present");
  // OpenSSL writes with write(), which raises SIGPIPE when the peer has gone:
  // keep it off this (connection) thread, as MSG_NOSIGNAL does for plain HTTP.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  SslPtr ssl(SSL_new(web.tls.get()));
  if (!ssl) return Status::Internal("SSL_new failed");
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  SSL_set_fd(ssl.get(), sock);
  const auto deadline = Clock::now() + std::chrono::milliseconds(server.limits().read_timeout_ms);
  if (Status st = RefusePlainHttp(server, sock, deadline); !st.ok()) return st;
  while (true) {
    const int ret = SSL_accept(ssl.get());
    if (ret == 1) break;
    const int error = SSL_get_error(ssl.get(), ret);
    const bool waited = (error == SSL_ERROR_WANT_READ && WaitFor(server, sock, POLLIN, deadline)) ||
                        (error == SSL_ERROR_WANT_WRITE && WaitFor(server, sock, POLLOUT, deadline));
    if (!waited) {
      return Status::InvalidArgument(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE
                                         ? std::string("i/o timeout")
                                         : TlsErrorText());
    }
  }
  if (Status st = CheckClientAllowedSans(ssl.get(), web.config.tls); !st.ok()) return st;
  return ssl;
}

// A new connection's web config, read now, and its TLS session when `tls`;
// false (logged) when the connection cannot be served.
bool Secure(const HttpConnectionServer& server, const WebConfigLoader& loader, bool tls, int sock,
            std::shared_ptr<const LoadedWebConfig>* web_config, SslPtr* ssl) {
  auto loaded = loader();
  if (!loaded.ok()) {
    VLOG_ERROR("Unable to load the web configuration file",
               {{"component", "web"}, {"err", loaded.status().message()}});
    return false;
  }
  *web_config = std::move(*loaded);
  if (!tls) return true;
  const std::string peer = PeerOf(sock);  // before the handshake: a peer that hung up has none
  auto accepted = AcceptTls(server, sock, **web_config);
  if (!accepted.ok()) {
    VLOG_ERROR("http: TLS handshake error from " + peer + ": " + accepted.status().message(),
               {{"component", "web"}});
    return false;
  }
  *ssl = std::move(*accepted);
  return true;
}

}  // namespace

ConnectionPool::ConnectionPool(int max_connections)
    : max_connections_(std::max(1, max_connections)) {}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mu_);
  slot_freed_.wait(lock, [this] { return active_ < max_connections_ || shutdown_; });
  ReapFinishedLocked();
  ++active_;
  if (idle_ > static_cast<int>(jobs_.size())) {
    jobs_.push_back(std::move(fn));
    job_ready_.notify_one();
    return;
  }
  std::thread t([this, job = std::move(fn)]() mutable { Work(std::move(job)); });
  const auto id = t.get_id();
  threads_.emplace(id, std::move(t));
}

void ConnectionPool::Work(std::function<void()> job) {
  while (job) {
    job();
    job = nullptr;
    std::unique_lock<std::mutex> lock(mu_);
    --active_;
    slot_freed_.notify_one();
    ++idle_;
    job_ready_.wait_for(lock, kThreadIdleLinger, [this] { return !jobs_.empty() || shutdown_; });
    --idle_;
    if (!jobs_.empty()) {
      job = std::move(jobs_.front());
      jobs_.pop_front();
    } else if (!shutdown_) {
      finished_.push_back(std::this_thread::get_id());
    }
  }
}

void ConnectionPool::ReapFinishedLocked() {
  for (const auto id : finished_) {
    auto it = threads_.find(id);
    if (it == threads_.end()) continue;
    it->second.join();  // the thread has left Work (or is about to)
    threads_.erase(it);
  }
  finished_.clear();
}

void ConnectionPool::shutdown() {
  std::map<std::thread::id, std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
    threads.swap(threads_);
    finished_.clear();
  }
  job_ready_.notify_all();
  slot_freed_.notify_all();
  for (auto& [id, t] : threads) t.join();
}

HttpConnectionServer::HttpConnectionServer(ConnectionLimits limits) : limits_(limits) {}

void HttpConnectionServer::SetWebConfigLoader(WebConfigLoader loader, bool tls) {
  web_config_loader_ = std::move(loader);
  tls_ = tls;
}

void HttpConnectionServer::RaiseBacklog() {
  const socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, std::max(limits_.max_connections, 128));
}

bool HttpConnectionServer::process_and_close_socket(socket_t sock) {
  std::shared_ptr<const LoadedWebConfig> web_config;
  SslPtr ssl;
  if (web_config_loader_ && !Secure(*this, web_config_loader_, tls_, sock, &web_config, &ssl)) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return false;
  }
  ConnectionState state;
  current_connection = &state;
  DeadlineStream stream(*this, sock, ssl.get());
  bool ok = true;
  for (int served = 0; served < limits_.keep_alive_max_requests && !stopping(); ++served) {
    if (served > 0) {
      if (!stream.WaitForNextRequest()) break;
      stream.RestartDeadline();
    }
    bool closed = false;
    const bool last = served + 1 == limits_.keep_alive_max_requests;
    ok = process_request(stream, last, closed, nullptr);
    if (!ok || closed || state.close_after_response || stream.timed_out()) break;
  }
  current_connection = nullptr;
  if (ssl != nullptr) {
    SSL_shutdown(ssl.get());  // close_notify; the client's is not awaited
    ERR_clear_error();
  }
  if (state.close_after_response && !stream.timed_out())
    DrainUnreadInput(*this, sock, stream.deadline());
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

void CloseConnectionAfterResponse() {
  if (current_connection != nullptr) current_connection->close_after_response = true;
}

}  // namespace vigil::web
