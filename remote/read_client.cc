#include "remote/read_client.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "config/http_client.h"
#include "remote/remote_protocol.h"
#include "remote/sample_series.h"

namespace vigil::remote {
namespace {

// Prometheus's limit on a decoded remote read answer.
constexpr size_t kMaxResponseBytes = 1u << 30;

RemoteMatcher ToRemote(const LabelMatcher& m) { return {m.type(), m.name(), m.value()}; }

}  // namespace

ReadClient::ReadClient(config::RemoteReadConfig config, Labels external_labels)
    : config_(std::move(config)), external_labels_(std::move(external_labels)) {}

bool ReadClient::Wants(int64_t mint, int64_t local_start_ms, const LabelMatchers& matchers) const {
  for (const auto& required : config_.required_matchers) {
    const bool present = std::any_of(matchers.begin(), matchers.end(), [&](const LabelMatcher& m) {
      return m.type() == MatchType::kEqual && m.name() == required.first &&
             m.value() == required.second;
    });
    if (!present) return false;
  }
  return config_.read_recent || mint < local_start_ms;
}

Result<storage::SeriesList> ReadClient::Select(int64_t mint, int64_t maxt,
                                               const LabelMatchers& matchers) const {
  RemoteQuery query{mint, maxt, {}};
  for (const auto& m : matchers) query.matchers.push_back(ToRemote(m));
  const bool filter = config_.filter_external_labels;
  if (filter) {
    for (const auto& l : external_labels_) {
      std::erase_if(query.matchers, [&](const RemoteMatcher& m) { return m.name == l.name; });
      query.matchers.push_back({MatchType::kEqual, l.name, l.value});
    }
  }
  ReadRequest request{{query}, {kResponseTypeSamples}};
  const std::string body = SnappyEncode(EncodeReadRequest(request));

  const auto [base, path] = config::SplitUrl(config_.url);
  auto client = config::NewHttpClient(base, config_.http);
  const auto timeout = std::chrono::milliseconds(config_.remote_timeout_ms);
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);
  httplib::Headers headers = {{"Content-Encoding", "snappy"},
                              {"Accept-Encoding", "snappy"},
                              {"X-Prometheus-Remote-Read-Version", "0.1.0"}};
  for (const auto& [name, value] : config_.headers) headers.emplace(name, value);
  VIGIL_RETURN_IF_ERROR(config::AddAuthHeaders(config_.http, headers));
  const auto r = client->Post(path, headers, body, "application/x-protobuf");
  const std::string where = "remote_read " + config_.url;
  if (!r) return Status::Unavailable(where + ": " + httplib::to_string(r.error()));
  if (r->status / 100 != 2) {
    return Status::Unavailable(where + ": server returned HTTP status " +
                               std::to_string(r->status) + ": " + r->body.substr(0, 256));
  }
  auto raw = SnappyDecode(r->body, kMaxResponseBytes);
  if (!raw.ok()) return Status::Unavailable(where + ": " + raw.status().message());
  auto response = DecodeReadResponse(*raw);
  if (!response.ok()) return Status::Unavailable(where + ": " + response.status().message());

  storage::SeriesList out;
  for (auto& results : response->results) {
    for (auto& ts : results) {
      LabelsBuilder b{Labels(std::move(ts.labels))};
      if (filter) {
        for (const auto& l : external_labels_) b.Del(l.name);
      }
      std::vector<Sample> samples;
      for (const auto& s : ts.samples) samples.push_back({s.timestamp_ms, s.value});
      std::sort(samples.begin(), samples.end(),
                [](const Sample& a, const Sample& b) { return a.t < b.t; });
      out.push_back(std::make_shared<SampleSeries>(b.Build(), MergeSamples({samples})));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->labels() < b->labels(); });
  return out;
}

}  // namespace vigil::remote
