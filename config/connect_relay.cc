#include "config/connect_relay.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>

namespace vigil::config {
namespace {

constexpr int kPollMs = 100;
constexpr auto kHeadTimeout = std::chrono::seconds(30);
constexpr size_t kMaxHead = 64 * 1024;

// Closes a socket when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool SendAll(int sock, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(sock, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads from `sock` until the end of an HTTP head ("\r\n\r\n"); the bytes
// read (the head and whatever followed it), or "" on close, timeout or stop.
std::string ReadHead(int sock, const std::atomic<bool>& stop) {
  std::string data;
  std::array<char, 4096> buffer{};
  const auto deadline = std::chrono::steady_clock::now() + kHeadTimeout;
  while (data.find("\r\n\r\n") == std::string::npos) {
    if (stop.load() || data.size() > kMaxHead || std::chrono::steady_clock::now() > deadline) {
      return "";
    }
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const ssize_t n = ::recv(sock, buffer.data(), buffer.size(), 0);
    if (n <= 0) return "";
    data.append(buffer.data(), static_cast<size_t>(n));
  }
  return data;
}

int Dial(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int sock = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock < 0) continue;
    if (::connect(sock, a->ai_addr, a->ai_addrlen) == 0) return sock;
    ::close(sock);
  }
  return -1;
}

// Copies bytes both ways until either side closes or `stop` is set.
void Pump(int a, int b, const std::atomic<bool>& stop) {
  std::array<char, 16 * 1024> buffer{};
  while (!stop.load()) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(fds, 2, kPollMs) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(fds[i].fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) return;
      if (!SendAll(fds[1 - i].fd, std::string_view(buffer.data(), static_cast<size_t>(n)))) {
        return;
      }
    }
  }
}

}  // namespace

ConnectRelay* ConnectRelay::For(const std::string& proxy_host, int proxy_port,
                                const HeaderList& headers) {
  static std::mutex mu;
  // Process-wide, as the relays' users (httplib clients) come and go.
  static std::map<std::string, std::unique_ptr<ConnectRelay>> relays;
  std::string key = proxy_host + '\0' + std::to_string(proxy_port);
  for (const auto& [name, value] : headers) key += '\0' + name + '\0' + value;
  std::lock_guard lock(mu);
  auto& relay = relays[key];
  if (!relay) relay = std::make_unique<ConnectRelay>(proxy_host, proxy_port, headers);
  return relay->ok() ? relay.get() : nullptr;
}

ConnectRelay::ConnectRelay(std::string proxy_host, int proxy_port, HeaderList headers)
    : proxy_host_(std::move(proxy_host)), proxy_port_(proxy_port), headers_(std::move(headers)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
    return;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

ConnectRelay::~ConnectRelay() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  if (listener_ >= 0) ::close(listener_);
  std::lock_guard lock(mu_);
  for (Worker& w : workers_) w.thread.join();
}

void ConnectRelay::ReapFinished() {
  std::lock_guard lock(mu_);
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (!it->done.load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = workers_.erase(it);
  }
}

void ConnectRelay::Accept() {
  while (!stop_.load()) {
    ReapFinished();
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard lock(mu_);
    Worker& w = workers_.emplace_back();
    w.thread = std::thread([this, client, &w] {
      Serve(client);
      w.done = true;
    });
  }
}

void ConnectRelay::Serve(int client_fd) const {
  const Fd client(client_fd);
  const std::string request = ReadHead(client.get(), stop_);
  // "CONNECT host:port HTTP/1.1": the tunnel's target.
  const size_t sp1 = request.find(' ');
  const size_t sp2 = request.find(' ', sp1 + 1);
  if (!request.starts_with("CONNECT ") || sp2 == std::string::npos) {
    SendAll(client.get(), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    return;
  }
  const std::string target = request.substr(sp1 + 1, sp2 - sp1 - 1);
  const Fd upstream(Dial(proxy_host_, proxy_port_));
  if (upstream.get() < 0) {
    SendAll(client.get(), "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
    return;
  }
  std::string connect = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  for (const auto& [name, value] : headers_) connect += name + ": " + value + "\r\n";
  connect += "\r\n";
  if (!SendAll(upstream.get(), connect)) return;
  // The proxy's answer goes back as it is: httplib judges the status.
  const std::string answer = ReadHead(upstream.get(), stop_);
  if (answer.empty() || !SendAll(client.get(), answer)) return;
  Pump(client.get(), upstream.get(), stop_);
}

}  // namespace vigil::config
