#include "scraper/target.h"

#include <algorithm>

#include "base/duration.h"
#include "base/url_escape.h"

namespace vigil::scraper {
namespace {

constexpr std::string_view kAddressLabel = "__address__";
constexpr std::string_view kSchemeLabel = "__scheme__";
constexpr std::string_view kMetricsPathLabel = "__metrics_path__";
constexpr std::string_view kIntervalLabel = "__scrape_interval__";
constexpr std::string_view kTimeoutLabel = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";
constexpr std::string_view kReservedPrefix = "__";

uint64_t Fnv1a(std::string_view s, uint64_t h = 14695981039346656037ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

std::string BuildUrl(const Labels& labels, std::map<std::string, std::vector<std::string>> params) {
  for (const Label& l : labels) {
    if (!l.name.starts_with(kParamPrefix)) continue;
    auto& values = params[l.name.substr(kParamPrefix.size())];
    if (values.empty()) {
      values.push_back(l.value);
    } else {
      values[0] = l.value;
    }
  }
  std::string query;
  for (const auto& [key, values] : params) {
    for (const auto& v : values) {
      if (!query.empty()) query += '&';
      query += QueryEscape(key) + "=" + QueryEscape(v);
    }
  }
  std::string url = std::string(labels.Get(kSchemeLabel)) + "://" +
                    std::string(labels.Get(kAddressLabel)) +
                    std::string(labels.Get(kMetricsPathLabel));
  if (!query.empty()) url += "?" + query;
  return url;
}

// Whether Go's net.SplitHostPort would need a port appended to `addr`:
// 0 = it has a port, 1 = append one, -1 = not a valid address either way.
int NeedsPort(std::string_view addr) {
  if (addr.starts_with("[")) {
    const size_t close = addr.find(']');
    if (close == std::string_view::npos) return -1;
    if (close + 1 == addr.size()) return 1;
    return addr[close + 1] == ':' ? 0 : -1;
  }
  const auto colons = std::count(addr.begin(), addr.end(), ':');
  if (colons == 1) return 0;
  return colons == 0 ? 1 : -1;
}

Labels SetDefaults(const Labels& discovered, const config::ScrapeConfig& cfg) {
  LabelsBuilder lb(discovered);
  const std::pair<std::string_view, std::string> defaults[] = {
      {"job", cfg.job_name},
      {kIntervalLabel, FormatDuration(cfg.scrape_interval_ms)},
      {kTimeoutLabel, FormatDuration(cfg.scrape_timeout_ms)},
      {kMetricsPathLabel, cfg.metrics_path},
      {kSchemeLabel, cfg.scheme},
  };
  for (const auto& [name, value] : defaults) {
    if (discovered.Get(name).empty()) lb.Set(name, value);
  }
  for (const auto& [key, values] : cfg.params) {
    if (!values.empty()) lb.Set(std::string(kParamPrefix) + key, values[0]);
  }
  return lb.Build();
}

Result<int64_t> DurationLabel(const Labels& labels, std::string_view name, const char* what) {
  auto d = ParseDuration(labels.Get(name));
  if (!d.ok()) {
    return Status::InvalidArgument(std::string("error parsing ") + what + ": " + d.status().message());
  }
  if (*d == 0) return Status::InvalidArgument(std::string(what) + " cannot be 0");
  return *d;
}

Status CheckTimes(const Labels& labels) {
  auto interval = DurationLabel(labels, kIntervalLabel, "scrape interval");
  if (!interval.ok()) return interval.status();
  auto timeout = DurationLabel(labels, kTimeoutLabel, "scrape timeout");
  if (!timeout.ok()) return timeout.status();
  if (*timeout > *interval) {
    return Status::InvalidArgument("scrape timeout cannot be greater than scrape interval (\"" +
                                   std::string(labels.Get(kTimeoutLabel)) + "\" > \"" +
                                   std::string(labels.Get(kIntervalLabel)) + "\")");
  }
  return Status::OK();
}

// Adds the scheme's default port, as Prometheus 2.42 always does.
Result<std::string> AddressWithPort(const Labels& labels) {
  std::string addr(labels.Get(kAddressLabel));
  if (NeedsPort(addr) == 1) {
    const std::string_view scheme = labels.Get(kSchemeLabel);
    if (scheme == "http" || scheme.empty()) {
      addr += ":80";
    } else if (scheme == "https") {
      addr += ":443";
    } else {
      return Status::InvalidArgument("invalid scheme: \"" + std::string(scheme) + "\"");
    }
  }
  if (addr.find('/') != std::string::npos) {
    return Status::InvalidArgument("\"" + addr + "\" is not a valid hostname");
  }
  return addr;
}

Result<Labels> FinishLabels(const Labels& relabeled) {
  if (relabeled.Get(kAddressLabel).empty()) return Status::InvalidArgument("no address");
  auto addr = AddressWithPort(relabeled);
  if (!addr.ok()) return addr.status();
  VIGIL_RETURN_IF_ERROR(CheckTimes(relabeled));
  LabelsBuilder lb(relabeled);
  lb.Set(kAddressLabel, *addr);
  for (const Label& l : relabeled) {
    if (l.name.starts_with(kMetaPrefix)) lb.Del(l.name);
  }
  if (relabeled.Get("instance").empty()) lb.Set("instance", *addr);
  return lb.Build();
}

}  // namespace

Target::Target(Labels labels, Labels discovered,
               std::map<std::string, std::vector<std::string>> params)
    : labels_(std::move(labels)), discovered_(std::move(discovered)) {
  std::vector<Label> pub;
  for (const Label& l : labels_) {
    if (!l.name.starts_with(kReservedPrefix)) pub.push_back(l);
  }
  public_labels_ = Labels(std::move(pub));
  url_ = BuildUrl(labels_, std::move(params));
  interval_ms_ = ParseDuration(labels_.Get(kIntervalLabel)).value();
  timeout_ms_ = ParseDuration(labels_.Get(kTimeoutLabel)).value();
  hash_ = Fnv1a(url_, labels_.Hash());  // reserved labels included, as Prometheus
}

Result<std::optional<Target>> PopulateTarget(const Labels& discovered, const config::ScrapeConfig& config) {
  const Labels pre = SetDefaults(discovered, config);
  const std::optional<Labels> relabeled = config::Relabel(pre, config.relabel_configs);
  if (!relabeled) return std::optional<Target>();
  auto final_labels = FinishLabels(*relabeled);
  if (!final_labels.ok()) return final_labels.status();
  for (const Label& l : *final_labels) {
    if (!IsValidLabelName(l.name)) {
      return Status::InvalidArgument("invalid label name for target: \"" + l.name + "\"");
    }
  }
  return std::optional<Target>(Target(std::move(*final_labels), pre, config.params));
}

void TargetsFromGroup(const config::TargetGroup& group, const config::ScrapeConfig& config, TargetSet& out) {
  for (size_t i = 0; i < group.targets.size(); ++i) {
    LabelsBuilder lb(group.labels);
    if (i < group.target_labels.size()) {
      for (const Label& l : group.target_labels[i]) lb.Set(l.name, l.value);
    }
    lb.Set(kAddressLabel, group.targets[i]);
    const Labels discovered = lb.Build();
    auto target = PopulateTarget(discovered, config);
    if (!target.ok()) {
      out.errors.push_back("instance " + std::to_string(i) + " in group " + group.source + ": " +
                           target.status().message());
    } else if (target->has_value()) {
      out.targets.push_back(std::move(**target));
    } else {
      out.dropped.push_back(SetDefaults(discovered, config));
    }
  }
}

}  // namespace vigil::scraper
