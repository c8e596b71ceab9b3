#include "src/server_check_cli.h"

#include <httplib.h>

#include "src/flags.h"

namespace vigil {
namespace {

// promtool waits this long for the whole request.
constexpr int kTimeoutSeconds = 10;

FlagSet StatusCheckFlags(const std::string& what) {
  FlagSet f("vigil check " + what);
  f.AddString("url", "http://localhost:9090", "The URL for the Prometheus server.");
  f.AddString("http.config.file", "",
              "HTTP client configuration file for promtool to connect to Prometheus "
              "(not supported by Vigil: refused).",
              nullptr, "<filename>");
  return f;
}

// "scheme://host:port" and the rest ("/prefix"), or an error as Go's HTTP
// client words it for a URL it cannot use.
Status SplitServerUrl(const std::string& url, std::string* base, std::string* path) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("unsupported protocol scheme \"" + scheme + "\"");
  }
  const size_t slash = url.find('/', scheme_end + 3);
  *base = url.substr(0, slash);
  *path = slash == std::string::npos ? "" : url.substr(slash);
  if (base->size() == scheme_end + 3) return Status::InvalidArgument("no Host in request URL");
  return Status::OK();
}

// The userinfo of "scheme://user:password@host", which Go's client sends as
// basic auth; removed from `base`.
void TakeUserInfo(std::string* base, std::string* user, std::string* password) {
  const size_t host_start = base->find("://") + 3;
  const size_t at = base->rfind('@');
  if (at == std::string::npos || at < host_start) return;
  const std::string info = base->substr(host_start, at - host_start);
  const size_t colon = info.find(':');
  *user = info.substr(0, colon);
  *password = colon == std::string::npos ? "" : info.substr(colon + 1);
  base->erase(host_start, at + 1 - host_start);
}

}  // namespace

int RunServerStatusCheck(const std::string& what, const std::vector<std::string>& args,
                         std::ostream& out, std::ostream& err) {
  FlagSet f = StatusCheckFlags(what);
  Status st = f.Parse(args);
  if (st.ok() && !f.positional().empty()) {
    st = Status::InvalidArgument("unexpected " + f.positional()[0]);
  }
  if (st.ok() && f.IsSet("http.config.file")) {
    st = Status::InvalidArgument(
        "--http.config.file is not supported; put basic auth credentials in --url "
        "(http://user:password@host:port)");
  }
  if (!st.ok()) {
    err << "vigil: error: " << st.message() << ", try --help\n";
    return 1;
  }
  if (f.help()) {
    out << f.Usage();
    return 0;
  }
  const std::string& url = f.Get("url");
  const std::string endpoint = what == "healthy" ? "/-/healthy" : "/-/ready";
  std::string base, path;
  if (Status bad = SplitServerUrl(url, &base, &path); !bad.ok()) {
    err << "Get \"" << url << endpoint << "\": " << bad.message() << "\n";
    return 1;
  }
  std::string user, password;
  TakeUserInfo(&base, &user, &password);
  httplib::Client client(base);
  client.set_connection_timeout(kTimeoutSeconds);
  client.set_read_timeout(kTimeoutSeconds);
  client.set_write_timeout(kTimeoutSeconds);
  if (!user.empty() || !password.empty()) client.set_basic_auth(user, password);
  const auto res = client.Get(path + endpoint);
  if (!res) {
    err << "Get \"" << url << endpoint << "\": " << httplib::to_string(res.error()) << "\n";
    return 1;
  }
  if (res->status != 200) {
    err << "check failed: URL=" << url << ", status=" << res->status << "\n";
    return 1;
  }
  err << "  SUCCESS:  " << res->body << "\n";
  return 0;
}

}  // namespace vigil
