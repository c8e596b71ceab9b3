#include "src/tsdb_cli.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <unordered_map>

#include "promql/engine.h"
#include "scraper/exposition_parser.h"
#include "src/flags.h"
#include "base/logger.h"
#include "base/metrics_registry.h"
#include "storage/tsdb.h"
#include "storage/tsdb_inspect.h"
#include "web/api_params.h"

namespace vigil {
namespace {

using vigil::Sample;

constexpr const char* kUsage =
    "usage: vigil tsdb COMMAND [flags] ARGS\n"
    "\n"
    "Commands (the server must be stopped, or DIR must be a snapshot):\n"
    "  list DIR                     partitions with time ranges, series, samples, bytes\n"
    "  analyze DIR [--limit=20]     series, chunks, bytes per sample, cardinality, churn\n"
    "  dump DIR [--match=SELECTOR]... [--min-time=MS] [--max-time=MS] [--format=text|openmetrics]\n"
    "  create-blocks-from openmetrics FILE DIR\n"
    "                               import an OpenMetrics file (samples need timestamps)\n";

FlagSet TsdbFlags() {
  FlagSet f("vigil tsdb");
  f.AddString("limit", "20", "How many entries each top list shows (analyze).",
              ValidatePositiveInt);
  f.AddRepeated("match", "Series selector (dump); repeatable; default: every series.");
  f.AddString("min-time", "", "Dump samples at or after this time (Unix milliseconds).");
  f.AddString("max-time", "", "Dump samples at or before this time (Unix milliseconds).");
  f.AddString("format", "text", "Dump format: text or openmetrics.",
              ValidateOneOf({"text", "openmetrics"}));
  return f;
}

Result<int64_t> ParseMillis(const std::string& flag, const std::string& text, int64_t fallback) {
  if (text.empty()) return fallback;
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("--" + flag + " must be Unix milliseconds, got \"" + text +
                                   "\"");
  }
  return v;
}

Result<std::unique_ptr<storage::TsdbInspector>> OpenDir(const std::string& dir) {
  auto inspector = storage::TsdbInspector::Open(dir);
  if (!inspector.ok()) {
    return Status(inspector.status().code(),
                  "cannot open " + dir + ": " + inspector.status().message());
  }
  return inspector;
}

Status List(const std::string& dir, std::ostream& out) {
  auto inspector = OpenDir(dir);
  if (!inspector.ok()) return inspector.status();
  auto parts = (*inspector)->ListPartitions();
  if (!parts.ok()) return parts.status();
  out << std::left << std::setw(26) << "PARTITION START" << std::setw(26) << "MIN TIME"
      << std::setw(26) << "MAX TIME" << std::right << std::setw(10) << "SERIES" << std::setw(12)
      << "SAMPLES" << std::setw(14) << "BYTES"
      << "\n";
  for (const auto& p : *parts) {
    out << std::left << std::setw(26) << web::FormatRfc3339(p.start_ms) << std::setw(26)
        << web::FormatRfc3339(p.min_time) << std::setw(26) << web::FormatRfc3339(p.max_time)
        << std::right << std::setw(10) << p.series << std::setw(12) << p.samples << std::setw(14)
        << p.bytes << "\n";
  }
  return (*inspector)->Close();
}

void PrintTop(std::ostream& out, const std::string& title,
              const std::vector<storage::CountByName>& top) {
  out << "\n" << title << ":\n";
  for (const auto& e : top) out << std::setw(10) << e.count << " " << e.name << "\n";
}

Status Analyze(const std::string& dir, size_t limit, std::ostream& out) {
  auto inspector = OpenDir(dir);
  if (!inspector.ok()) return inspector.status();
  auto a = (*inspector)->Analyze(limit);
  if (!a.ok()) return a.status();
  out << "Time range: " << web::FormatRfc3339(a->min_time) << " .. "
      << web::FormatRfc3339(a->max_time) << " (" << a->partitions << " partitions)\n"
      << "Series: " << a->series << "\n"
      << "Samples: " << a->samples << "\n"
      << "Chunks: " << a->chunks << "\n"
      << "Bytes on disk: " << a->bytes_on_disk << "\n"
      << "Bytes per sample: "
      << (a->samples == 0 ? std::string("-")
                          : FormatFloat(static_cast<double>(a->bytes_on_disk) /
                                        static_cast<double>(a->samples)))
      << "\n";
  PrintTop(out, "Highest cardinality metric names (series)", a->series_by_metric);
  PrintTop(out, "Highest cardinality labels (values)", a->values_by_label_name);
  PrintTop(out, "Most common label pairs (series)", a->series_by_label_pair);
  PrintTop(out, "Label pairs most involved in series churn (series)", a->churn_by_label_pair);
  PrintTop(out, "Label names with the most value churn (values not in every partition)",
           a->value_churn_by_label_name);
  return (*inspector)->Close();
}

// `{__name__="up", job="x"}` as promtool tsdb dump prints series.
std::string DumpSeriesText(const Labels& labels) {
  std::string s = "{";
  for (const auto& l : labels) {
    if (s.size() > 1) s += ", ";
    s += l.name + "=\"" + EscapeLabelValue(l.value) + "\"";
  }
  return s + "}";
}

// `up{job="x"}` as OpenMetrics writes a sample's series.
std::string DumpSeriesOpenMetrics(const Labels& labels) {
  std::string s(labels.MetricName());
  std::string inner;
  for (const auto& l : labels) {
    if (l.name == kMetricNameLabel) continue;
    if (!inner.empty()) inner += ",";
    inner += l.name + "=\"" + EscapeLabelValue(l.value) + "\"";
  }
  return inner.empty() ? s : s + "{" + inner + "}";
}

std::string OpenMetricsTimestamp(int64_t ms) {
  std::string sign = ms < 0 ? "-" : "";
  const int64_t abs = ms < 0 ? -ms : ms;
  char frac[8];
  std::snprintf(frac, sizeof(frac), "%03lld", static_cast<long long>(abs % 1000));
  return sign + std::to_string(abs / 1000) + "." + frac;
}

Status Dump(const std::string& dir, const FlagSet& f, std::ostream& out) {
  auto mint = ParseMillis("min-time", f.Get("min-time"), storage::kMinTime);
  if (!mint.ok()) return mint.status();
  auto maxt = ParseMillis("max-time", f.Get("max-time"), storage::kMaxTime);
  if (!maxt.ok()) return maxt.status();
  std::vector<LabelMatchers> selectors;
  for (const auto& text : f.GetAll("match")) {
    auto m = promql::ParseSeriesSelector(text);
    if (!m.ok())
      return Status::InvalidArgument("bad --match " + text + ": " + m.status().message());
    selectors.push_back(std::move(m).value());
  }
  if (selectors.empty()) selectors.push_back(storage::AllSeriesMatchers());
  auto inspector = OpenDir(dir);
  if (!inspector.ok()) return inspector.status();
  const bool om = f.Get("format") == "openmetrics";
  for (const auto& matchers : selectors) {
    VIGIL_RETURN_IF_ERROR(
        (*inspector)
            ->ForEachSeries(
                matchers, *mint, *maxt, [&](const Labels& labels, storage::SeriesIterator& it) {
                  const std::string series =
                      om ? DumpSeriesOpenMetrics(labels) : DumpSeriesText(labels);
                  while (it.Next()) {
                    const Sample s = it.At();
                    out << series << " " << FormatFloat(s.v) << " "
                        << (om ? OpenMetricsTimestamp(s.t) : std::to_string(s.t)) << "\n";
                  }
                  return Status::OK();
                }));
  }
  if (om) out << "# EOF\n";
  return (*inspector)->Close();
}

// Samples of one series gathered from the file, in file order.
struct ImportedSeries {
  Labels labels;
  std::vector<Sample> samples;
};

Result<std::vector<ImportedSeries>> ReadOpenMetrics(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string body = buf.str();
  scraper::ExpositionParser parser(body, scraper::ExpositionFormat::kOpenMetrics);
  std::vector<ImportedSeries> series;
  std::unordered_map<std::string_view, size_t> index;  // series text -> position
  for (;;) {
    auto more = parser.Next();
    if (!more.ok()) return Status::InvalidArgument(path + ": " + more.status().message());
    if (!*more) break;
    if (!parser.timestamp_ms()) {
      return Status::InvalidArgument(path + ": line " + std::to_string(parser.line()) +
                                     ": sample without a timestamp");
    }
    auto [it, created] = index.try_emplace(parser.series(), series.size());
    if (created) {
      auto labels = parser.labels();
      if (!labels.ok()) {
        return Status::InvalidArgument(path + ": line " + std::to_string(parser.line()) + ": " +
                                       labels.status().message());
      }
      series.push_back({std::move(labels).value(), {}});
    }
    series[it->second].samples.push_back({*parser.timestamp_ms(), parser.value()});
  }
  return series;
}

// Sorts by time; of samples sharing a timestamp the first in the file wins.
void SortAndDedupe(std::vector<Sample>& samples) {
  std::ranges::stable_sort(samples, {}, &Sample::t);
  const auto dup = std::ranges::unique(samples, {}, &Sample::t);
  samples.erase(dup.begin(), dup.end());
}

Status Import(const std::string& file, const std::string& dir, std::ostream& out) {
  auto series = ReadOpenMetrics(file);
  if (!series.ok()) return series.status();
  storage::StorageOptions options;
  options.path = dir;
  options.retention_ms = 0;  // an import never expires what it just wrote
  storage::TsdbTuning tuning;
  tuning.background = false;
  auto db = storage::Tsdb::Open(options, tuning);
  if (!db.ok())
    return Status(db.status().code(), "cannot open " + dir + ": " + db.status().message());
  uint64_t samples = 0;
  int64_t lo = storage::kMaxTime, hi = storage::kMinTime;
  for (auto& s : *series) {
    SortAndDedupe(s.samples);
    VIGIL_RETURN_IF_ERROR((*db)->AppendHistorical(s.labels, s.samples));
    samples += s.samples.size();
    lo = std::min(lo, s.samples.front().t);
    hi = std::max(hi, s.samples.back().t);
  }
  VIGIL_RETURN_IF_ERROR((*db)->Close());
  out << "Imported " << samples << " samples of " << series->size() << " series into " << dir;
  if (samples > 0) out << " (" << web::FormatRfc3339(lo) << " .. " << web::FormatRfc3339(hi) << ")";
  out << "\n";
  return Status::OK();
}

Status Run(const FlagSet& f, std::ostream& out) {
  const auto& pos = f.positional();
  const std::string command = pos.empty() ? "" : pos[0];
  if (command == "list" && pos.size() == 2) return List(pos[1], out);
  if (command == "analyze" && pos.size() == 2) {
    return Analyze(pos[1], static_cast<size_t>(std::stoll(f.Get("limit"))), out);
  }
  if (command == "dump" && pos.size() == 2) return Dump(pos[1], f, out);
  if (command == "create-blocks-from" && pos.size() == 4 && pos[1] == "openmetrics") {
    return Import(pos[2], pos[3], out);
  }
  if (command.empty()) return Status::InvalidArgument("missing command");
  return Status::InvalidArgument("unknown command or wrong arguments: " + command);
}

}  // namespace

int RunTsdbCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // The store's start-up lines would only clutter the tool's output.
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  FlagSet f = TsdbFlags();
  if (Status st = f.Parse(args); !st.ok()) {
    err << "vigil tsdb: error: " << st.message() << "\n" << kUsage;
    return 1;
  }
  if (f.help()) {
    out << kUsage;
    return 0;
  }
  if (Status st = Run(f, out); !st.ok()) {
    err << "vigil tsdb: error: " << st.message() << "\n";
    if (st.code() == StatusCode::kInvalidArgument && f.positional().size() < 2) err << kUsage;
    return 1;
  }
  return 0;
}

}  // namespace vigil
