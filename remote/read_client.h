// ReadClient: one `remote_read` endpoint. Answers a selector over a time
// range by POSTing a snappy protobuf ReadRequest (sampled response type) as
// Prometheus 2.42 does, honouring required_matchers, read_recent and
// filter_external_labels.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/labels.h"
#include "base/matcher.h"
#include "base/status.h"
#include "config/config.h"
#include "storage/storage.h"

namespace vigil::remote {

class ReadClient {
 public:
  ReadClient(config::RemoteReadConfig config, Labels external_labels);

  const config::RemoteReadConfig& config() const { return config_; }
  const Labels& external_labels() const { return external_labels_; }

  // Whether this endpoint is asked at all for a selector over [mint, ...]:
  // every required matcher appears as an equality matcher, and unless
  // read_recent the range reaches back before `local_start_ms` (the oldest
  // local sample).
  bool Wants(int64_t mint, int64_t local_start_ms, const LabelMatchers& matchers) const;

  // The series matching `matchers` in [mint, maxt], sorted by labels. With
  // filter_external_labels the external labels are required of the remote
  // series and removed from the answer.
  Result<storage::SeriesList> Select(int64_t mint, int64_t maxt,
                                     const LabelMatchers& matchers) const;

 private:
  const config::RemoteReadConfig config_;
  const Labels external_labels_;
};

}  // namespace vigil::remote
