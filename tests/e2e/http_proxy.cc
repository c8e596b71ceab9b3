#include "tests/e2e/http_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace vigil::e2e {
namespace {

int ConnectTo(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  if (inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr) != 1) return -1;
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(sock);
    return -1;
  }
  return sock;
}

bool SendAll(int sock, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(sock, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Copies bytes both ways until either side closes or `stop` is set.
void Pump(int a, int b, const std::atomic<bool>& stop) {
  std::array<char, 16 * 1024> buffer{};
  while (!stop.load()) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(fds, 2, 100) < 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::recv(fds[i].fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) return;
      if (!SendAll(fds[1 - i].fd, std::string(buffer.data(), static_cast<size_t>(n)))) return;
    }
  }
}

}  // namespace

HttpProxy::HttpProxy() {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listener_, 64);
  socklen_t len = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

HttpProxy::~HttpProxy() {
  stop_ = true;
  acceptor_.join();
  ::close(listener_);
  for (auto& t : threads_) t.join();
}

std::vector<std::string> HttpProxy::request_lines() const {
  std::vector<std::string> lines;
  for (const std::string& head : request_heads())
    lines.push_back(head.substr(0, head.find("\r\n")));
  return lines;
}

std::vector<std::string> HttpProxy::request_heads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heads_;
}

void HttpProxy::Accept() {
  while (!stop_.load()) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([this, client] { Serve(client); });
  }
}

void HttpProxy::Serve(int client) {
  std::string head;
  std::array<char, 4096> buffer{};
  while (head.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(client, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
      ::close(client);
      return;
    }
    head.append(buffer.data(), static_cast<size_t>(n));
  }
  const std::string line = head.substr(0, head.find("\r\n"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    heads_.push_back(head.substr(0, head.find("\r\n\r\n")));
  }
  // "METHOD TARGET VERSION"
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.find(' ', sp1 + 1);
  const std::string method = line.substr(0, sp1);
  const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  int upstream = -1;
  if (method == "CONNECT") {
    upstream = ConnectTo(target);
    if (upstream >= 0) {
      SendAll(client, "HTTP/1.1 200 Connection established\r\n\r\n");
      const std::string early = head.substr(head.find("\r\n\r\n") + 4);
      if (!early.empty()) SendAll(upstream, early);
    }
  } else if (target.starts_with("http://")) {
    const size_t path = target.find('/', 7);
    upstream = ConnectTo(target.substr(7, path - 7));
    if (upstream >= 0) {
      // Origin-form towards the target, the rest of the request as received.
      SendAll(upstream, method + " " + target.substr(path) + head.substr(sp2));
    }
  }
  if (upstream < 0) {
    SendAll(client, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  } else {
    Pump(client, upstream, stop_);
    ::close(upstream);
  }
  ::close(client);
}

}  // namespace vigil::e2e
