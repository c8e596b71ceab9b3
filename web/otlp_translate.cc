#include "web/otlp_translate.h"

#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <charconv>
#include <clocale>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include "base/quote.h"
#include "base/sample.h"
#include "remote/protobuf_wire.h"

namespace vigil::web {
namespace {

using remote::ProtoReader;
using remote::ProtoWriter;
using remote::WireType;

// ---- Names -----------------------------------------------------------------

// Go's unicode.IsLetter || unicode.IsDigit for one code point: ASCII by
// hand, the rest by glibc's Unicode tables (C.UTF-8).
bool IsLetterOrDigit(char32_t cp) {
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) != 0;
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  if (utf8 == static_cast<locale_t>(0)) return true;  // no tables: count it as a letter
  return iswalnum_l(static_cast<wint_t>(cp), utf8) != 0;
}

// Calls fn(bytes, letter_or_digit) for each UTF-8 character of `s`; an
// invalid byte is one character, neither letter nor digit (Go's RuneError).
template <typename Fn>
void ForEachRune(std::string_view s, Fn&& fn) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = b < 0x80         ? 1
                       : (b >> 5) == 6  ? 2
                       : (b >> 4) == 14 ? 3
                       : (b >> 3) == 30 ? 4
                                        : 0;
    bool valid = len > 0 && i + len <= s.size();
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    for (size_t k = 1; valid && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      valid = (c >> 6) == 2;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (!valid) {
      fn(s.substr(i, 1), false);
      ++i;
      continue;
    }
    fn(s.substr(i, len), IsLetterOrDigit(cp));
    i += len;
  }
}

// strings.FieldsFunc(s, not letter-or-digit).
std::vector<std::string> AlnumTokens(std::string_view s) {
  std::vector<std::string> out;
  std::string current;
  ForEachRune(s, [&](std::string_view rune, bool alnum) {
    if (alnum) {
      current += rune;
    } else if (!current.empty()) {
      out.push_back(std::move(current));
      current.clear();
    }
  });
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string JoinTokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (const std::string& t : tokens) out += (out.empty() ? "" : "_") + t;
  return out;
}

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t\n\r\v\f");
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(" \t\n\r\v\f");
  return s.substr(first, last - first + 1);
}

std::string_view UnitWord(std::string_view unit) {
  static const std::map<std::string_view, std::string_view> kUnits = {
      {"d", "days"},         {"h", "hours"},         {"min", "minutes"},
      {"s", "seconds"},      {"ms", "milliseconds"}, {"us", "microseconds"},
      {"ns", "nanoseconds"}, {"By", "bytes"},        {"KiBy", "kibibytes"},
      {"MiBy", "mebibytes"}, {"GiBy", "gibibytes"},  {"TiBy", "tibibytes"},
      {"KBy", "kilobytes"},  {"MBy", "megabytes"},   {"GBy", "gigabytes"},
      {"TBy", "terabytes"},  {"B", "bytes"},         {"KB", "kilobytes"},
      {"MB", "megabytes"},   {"GB", "gigabytes"},    {"TB", "terabytes"},
      {"m", "meters"},       {"V", "volts"},         {"A", "amperes"},
      {"J", "joules"},       {"W", "watts"},         {"g", "grams"},
      {"Cel", "celsius"},    {"Hz", "hertz"},        {"1", ""},
      {"%", "percent"},      {"$", "dollars"}};
  const auto it = kUnits.find(unit);
  return it == kUnits.end() ? unit : it->second;
}

std::string_view PerUnitWord(std::string_view unit) {
  static const std::map<std::string_view, std::string_view> kPerUnits = {
      {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
      {"w", "week"},   {"mo", "month"}, {"y", "year"}};
  const auto it = kPerUnits.find(unit);
  return it == kPerUnits.end() ? unit : it->second;
}

bool Contains(const std::vector<std::string>& tokens, const std::string& t) {
  return std::find(tokens.begin(), tokens.end(), t) != tokens.end();
}

// Moves `word` to the end: every occurrence removed, one appended.
void MoveToEnd(std::vector<std::string>& tokens, const std::string& word) {
  std::erase(tokens, word);
  tokens.push_back(word);
}

bool HasBraces(std::string_view s) {
  return s.find('{') != std::string_view::npos || s.find('}') != std::string_view::npos;
}

// ---- Decoded OTLP messages ---------------------------------------------------

using Attributes = std::vector<std::pair<std::string, std::string>>;  // key, AsString value

struct NumberPoint {
  Attributes attributes;
  uint64_t time_ns = 0;
  double value = 0;
  uint32_t flags = 0;
};

struct HistogramPoint {
  Attributes attributes;
  uint64_t time_ns = 0;
  uint64_t count = 0;
  std::optional<double> sum;
  std::vector<uint64_t> bucket_counts;
  std::vector<double> explicit_bounds;
  uint32_t flags = 0;
};

struct SummaryPoint {
  Attributes attributes;
  uint64_t time_ns = 0;
  uint64_t count = 0;
  double sum = 0;
  std::vector<std::pair<double, double>> quantiles;  // quantile, value
  uint32_t flags = 0;
};

enum class MetricType { kEmpty, kGauge, kSum, kHistogram, kExponentialHistogram, kSummary };

constexpr int kTemporalityCumulative = 2;
constexpr uint32_t kFlagNoRecordedValue = 1;

struct Metric {
  std::string name;
  std::string unit;
  MetricType type = MetricType::kEmpty;
  int temporality = 0;
  bool monotonic = false;
  size_t point_count = 0;
  uint64_t newest_ns = 0;
  std::vector<NumberPoint> numbers;
  std::vector<HistogramPoint> histograms;
  std::vector<SummaryPoint> summaries;
};

struct ResourceMetrics {
  Attributes resource;
  std::vector<Metric> metrics;
};

// ---- Protobuf decoding ------------------------------------------------------

// Calls fn(field, type, reader) for every field of `message`.
Status ForFields(std::string_view message,
                 const std::function<Status(uint32_t, WireType, ProtoReader&)>& fn) {
  ProtoReader r(message);
  while (!r.done()) {
    uint32_t field = 0;
    WireType type{};
    VIGIL_RETURN_IF_ERROR(r.NextField(&field, &type));
    VIGIL_RETURN_IF_ERROR(fn(field, type, r));
  }
  return Status::OK();
}

Status WrongType(uint32_t field) {
  return Status::InvalidArgument("proto: wrong wire type for field " + std::to_string(field));
}

Status Bytes(ProtoReader& r, WireType type, uint32_t field, std::string_view* out) {
  if (type != WireType::kLengthDelimited) return WrongType(field);
  return r.ReadBytes(out);
}

Status Varint(ProtoReader& r, WireType type, uint32_t field, uint64_t* out) {
  if (type != WireType::kVarint) return WrongType(field);
  return r.ReadVarint(out);
}

// A uint32 field (the points' flags): a varint cut to 32 bits, as protobuf does.
Status Uint32(ProtoReader& r, WireType type, uint32_t field, uint32_t* out) {
  uint64_t u = 0;
  VIGIL_RETURN_IF_ERROR(Varint(r, type, field, &u));
  *out = static_cast<uint32_t>(u);
  return Status::OK();
}

Status Fixed64(ProtoReader& r, WireType type, uint32_t field, uint64_t* out) {
  if (type != WireType::kFixed64) return WrongType(field);
  return r.ReadFixed64(out);
}

Status Double(ProtoReader& r, WireType type, uint32_t field, double* out) {
  if (type != WireType::kFixed64) return WrongType(field);
  return r.ReadDouble(out);
}

// A repeated fixed64/double field, packed or not.
template <typename T, typename ReadOne>
Status Repeated64(ProtoReader& r, WireType type, uint32_t field, std::vector<T>& out,
                  ReadOne read_one) {
  if (type == WireType::kFixed64) {
    T v{};
    VIGIL_RETURN_IF_ERROR(read_one(r, &v));
    out.push_back(v);
    return Status::OK();
  }
  std::string_view packed;
  VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &packed));
  if (packed.size() % 8 != 0) return Status::InvalidArgument("proto: bad packed fixed64 field");
  ProtoReader p(packed);
  while (!p.done()) {
    T v{};
    VIGIL_RETURN_IF_ERROR(read_one(p, &v));
    out.push_back(v);
  }
  return Status::OK();
}

// Go's strconv.FormatFloat as pcommon's AsString uses it (ES6 style: plain
// notation between 1e-6 and 1e21, exponents without padding).
std::string FormatAttributeDouble(double v) {
  if (std::isnan(v)) return "json: unsupported value: NaN";
  if (std::isinf(v))
    return v > 0 ? "json: unsupported value: +Inf" : "json: unsupported value: -Inf";
  char buf[64];
  const double a = std::fabs(v);
  const auto fmt = (a != 0 && (a < 1e-6 || a >= 1e21)) ? std::chars_format::scientific
                                                       : std::chars_format::fixed;
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, fmt);
  std::string s(buf, end);
  const size_t e = s.find('e');
  if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0') s.erase(e + 2, 1);
  return s;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint8_t(bytes[i]) << 16;
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63],
                       kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Arrays and maps inside attribute values nest at most this deep (a hostile
// request would otherwise recurse as deep as its bytes allow).
constexpr int kMaxValueDepth = 64;

// An AnyValue as pcommon's Value.AsString() gives it (`json` for values
// nested in arrays and maps: their JSON form).
Status DecodeAnyValue(std::string_view message, bool json, std::string* out, int depth = 0);

Status DecodeKeyValue(std::string_view message, bool json, std::string* key, std::string* value,
                      int depth = 0) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    std::string_view bytes;
    if (field == 1) {
      VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
      *key = std::string(bytes);
      return Status::OK();
    }
    if (field == 2) {
      VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
      return DecodeAnyValue(bytes, json, value, depth);
    }
    return r.Skip(type);
  });
}

Status DecodeAnyValue(std::string_view message, bool json, std::string* out, int depth) {
  if (depth > kMaxValueDepth) return Status::InvalidArgument("attribute values nest too deep");
  *out = json ? "null" : "";
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    std::string_view bytes;
    uint64_t u = 0;
    double d = 0;
    switch (field) {
      case 1:  // string_value
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        *out = json ? JsonString(bytes) : std::string(bytes);
        return Status::OK();
      case 2:  // bool_value
        VIGIL_RETURN_IF_ERROR(Varint(r, type, field, &u));
        *out = u != 0 ? "true" : "false";
        return Status::OK();
      case 3:  // int_value
        VIGIL_RETURN_IF_ERROR(Varint(r, type, field, &u));
        *out = std::to_string(static_cast<int64_t>(u));
        return Status::OK();
      case 4:  // double_value
        VIGIL_RETURN_IF_ERROR(Double(r, type, field, &d));
        *out = FormatAttributeDouble(d);
        return Status::OK();
      case 5: {  // array_value: ArrayValue{repeated AnyValue values = 1}
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        std::string list = "[";
        VIGIL_RETURN_IF_ERROR(ForFields(bytes, [&](uint32_t f, WireType t, ProtoReader& ar) {
          if (f != 1) return ar.Skip(t);
          std::string_view item;
          VIGIL_RETURN_IF_ERROR(Bytes(ar, t, f, &item));
          std::string value;
          VIGIL_RETURN_IF_ERROR(DecodeAnyValue(item, true, &value, depth + 1));
          list += (list.size() > 1 ? "," : "") + value;
          return Status::OK();
        }));
        *out = list + "]";
        return Status::OK();
      }
      case 6: {  // kvlist_value: KeyValueList{repeated KeyValue values = 1}, keys sorted as Go's
                 // JSON
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        std::map<std::string, std::string> entries;
        VIGIL_RETURN_IF_ERROR(ForFields(bytes, [&](uint32_t f, WireType t, ProtoReader& kr) {
          if (f != 1) return kr.Skip(t);
          std::string_view item;
          VIGIL_RETURN_IF_ERROR(Bytes(kr, t, f, &item));
          std::string key, value;
          VIGIL_RETURN_IF_ERROR(DecodeKeyValue(item, true, &key, &value, depth + 1));
          entries[key] = value;
          return Status::OK();
        }));
        std::string object = "{";
        for (const auto& [k, v] : entries) {
          object += (object.size() > 1 ? "," : "") + JsonString(k) + ":" + v;
        }
        *out = object + "}";
        return Status::OK();
      }
      case 7:  // bytes_value
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        *out = json ? JsonString(Base64(bytes)) : Base64(bytes);
        return Status::OK();
      default:
        return r.Skip(type);
    }
  });
}

Status AppendAttribute(ProtoReader& r, WireType type, uint32_t field, Attributes& attributes) {
  std::string_view bytes;
  VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
  std::string key, value;
  VIGIL_RETURN_IF_ERROR(DecodeKeyValue(bytes, false, &key, &value));
  attributes.emplace_back(std::move(key), std::move(value));
  return Status::OK();
}

Status DecodeNumberPoint(std::string_view message, NumberPoint* p) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    uint64_t u = 0;
    switch (field) {
      case 7:
        return AppendAttribute(r, type, field, p->attributes);
      case 3:
        return Fixed64(r, type, field, &p->time_ns);
      case 4:
        return Double(r, type, field, &p->value);
      case 6:  // as_int, sfixed64
        VIGIL_RETURN_IF_ERROR(Fixed64(r, type, field, &u));
        p->value = static_cast<double>(static_cast<int64_t>(u));
        return Status::OK();
      case 8:
        return Uint32(r, type, field, &p->flags);
      default:
        return r.Skip(type);
    }
  });
}

Status DecodeHistogramPoint(std::string_view message, HistogramPoint* p) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    double d = 0;
    switch (field) {
      case 9:
        return AppendAttribute(r, type, field, p->attributes);
      case 3:
        return Fixed64(r, type, field, &p->time_ns);
      case 4:
        return Fixed64(r, type, field, &p->count);
      case 5:
        VIGIL_RETURN_IF_ERROR(Double(r, type, field, &d));
        p->sum = d;
        return Status::OK();
      case 6:
        return Repeated64(r, type, field, p->bucket_counts,
                          [](ProtoReader& pr, uint64_t* v) { return pr.ReadFixed64(v); });
      case 7:
        return Repeated64(r, type, field, p->explicit_bounds,
                          [](ProtoReader& pr, double* v) { return pr.ReadDouble(v); });
      case 10:
        return Uint32(r, type, field, &p->flags);
      default:
        return r.Skip(type);
    }
  });
}

Status DecodeSummaryPoint(std::string_view message, SummaryPoint* p) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    std::string_view bytes;
    switch (field) {
      case 7:
        return AppendAttribute(r, type, field, p->attributes);
      case 3:
        return Fixed64(r, type, field, &p->time_ns);
      case 4:
        return Fixed64(r, type, field, &p->count);
      case 5:
        return Double(r, type, field, &p->sum);
      case 6: {
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        std::pair<double, double> q{0, 0};
        VIGIL_RETURN_IF_ERROR(ForFields(bytes, [&](uint32_t f, WireType t, ProtoReader& qr) {
          if (f == 1) return Double(qr, t, f, &q.first);
          if (f == 2) return Double(qr, t, f, &q.second);
          return qr.Skip(t);
        }));
        p->quantiles.push_back(q);
        return Status::OK();
      }
      case 8:
        return Uint32(r, type, field, &p->flags);
      default:
        return r.Skip(type);
    }
  });
}

// Gauge, Sum, Histogram, ExponentialHistogram and Summary share the layout
// {repeated points = 1; temporality = 2; is_monotonic = 3}.
Status DecodeData(std::string_view message, Metric* m) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    uint64_t u = 0;
    std::string_view bytes;
    if (field == 2 && m->type != MetricType::kGauge && m->type != MetricType::kSummary) {
      VIGIL_RETURN_IF_ERROR(Varint(r, type, field, &u));
      m->temporality = static_cast<int>(u);
      return Status::OK();
    }
    if (field == 3 && m->type == MetricType::kSum) {
      VIGIL_RETURN_IF_ERROR(Varint(r, type, field, &u));
      m->monotonic = u != 0;
      return Status::OK();
    }
    if (field != 1) return r.Skip(type);
    VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
    ++m->point_count;
    uint64_t time_ns = 0;
    switch (m->type) {
      case MetricType::kGauge:
      case MetricType::kSum:
        VIGIL_RETURN_IF_ERROR(DecodeNumberPoint(bytes, &m->numbers.emplace_back()));
        time_ns = m->numbers.back().time_ns;
        break;
      case MetricType::kHistogram:
        VIGIL_RETURN_IF_ERROR(DecodeHistogramPoint(bytes, &m->histograms.emplace_back()));
        time_ns = m->histograms.back().time_ns;
        break;
      case MetricType::kSummary:
        VIGIL_RETURN_IF_ERROR(DecodeSummaryPoint(bytes, &m->summaries.emplace_back()));
        time_ns = m->summaries.back().time_ns;
        break;
      case MetricType::kExponentialHistogram:
        // Only its timestamp counts (for target_info): time_unix_nano = 3.
        VIGIL_RETURN_IF_ERROR(ForFields(bytes, [&](uint32_t f, WireType t, ProtoReader& er) {
          return f == 3 ? Fixed64(er, t, f, &time_ns) : er.Skip(t);
        }));
        break;
      case MetricType::kEmpty:
        break;
    }
    m->newest_ns = std::max(m->newest_ns, time_ns);
    return Status::OK();
  });
}

Status DecodeMetric(std::string_view message, Metric* m) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    std::string_view bytes;
    switch (field) {
      case 1:
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        m->name = std::string(bytes);
        return Status::OK();
      case 3:
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        m->unit = std::string(bytes);
        return Status::OK();
      case 5:
      case 7:
      case 9:
      case 10:
      case 11:
        m->type = field == 5    ? MetricType::kGauge
                  : field == 7  ? MetricType::kSum
                  : field == 9  ? MetricType::kHistogram
                  : field == 10 ? MetricType::kExponentialHistogram
                                : MetricType::kSummary;
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        return DecodeData(bytes, m);
      default:
        return r.Skip(type);
    }
  });
}

Status DecodeResourceMetrics(std::string_view message, ResourceMetrics* rm) {
  return ForFields(message, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
    std::string_view bytes;
    if (field == 1) {  // Resource{repeated KeyValue attributes = 1}
      VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
      return ForFields(bytes, [&](uint32_t f, WireType t, ProtoReader& ar) {
        return f == 1 ? AppendAttribute(ar, t, f, rm->resource) : ar.Skip(t);
      });
    }
    if (field == 2) {  // ScopeMetrics{scope = 1; repeated Metric metrics = 2}
      VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
      return ForFields(bytes, [&](uint32_t f, WireType t, ProtoReader& sr) -> Status {
        if (f != 2) return sr.Skip(t);
        std::string_view metric;
        VIGIL_RETURN_IF_ERROR(Bytes(sr, t, f, &metric));
        return DecodeMetric(metric, &rm->metrics.emplace_back());
      });
    }
    return r.Skip(type);
  });
}

// ---- Translation --------------------------------------------------------------

const std::string* Find(const Attributes& attributes, std::string_view key) {
  // pcommon.Map.Get returns the first entry with the key.
  for (const auto& [k, v] : attributes) {
    if (k == key) return &v;
  }
  return nullptr;
}

constexpr std::string_view kServiceName = "service.name";
constexpr std::string_view kServiceNamespace = "service.namespace";
constexpr std::string_view kServiceInstanceId = "service.instance.id";

// Each data point attribute is copied into every series of its point: a
// histogram with many attributes and many buckets multiplies them. The labels
// a request may expand to are capped (far above what real exporters send).
int64_t LabelBudget(size_t request_bytes) {
  return std::max<int64_t>(1'000'000, 2 * static_cast<int64_t>(request_bytes));
}

class Translator {
 public:
  Translator(OtlpTranslation& out, int64_t label_budget) : out_(out), budget_(label_budget) {}

  bool over_budget() const { return budget_ < 0; }

  void Resource(const ResourceMetrics& rm) {
    resource_ = &rm.resource;
    uint64_t newest_ns = 0;
    for (const Metric& m : rm.metrics) {
      newest_ns = std::max(newest_ns, m.newest_ns);
      AddMetric(m);
    }
    AddTargetInfo(newest_ns);
  }

  void Finish() {
    for (auto& [signature, series] : series_) out_.series.push_back(std::move(series));
  }

 private:
  void AddMetric(const Metric& m) {
    const bool cumulative = m.temporality == kTemporalityCumulative;
    if ((m.type == MetricType::kSum || m.type == MetricType::kHistogram ||
         m.type == MetricType::kExponentialHistogram) &&
        !cumulative) {
      out_.errors.push_back("invalid temporality and type combination for metric " +
                            GoQuote(m.name));
      return;
    }
    if (m.type == MetricType::kEmpty) {
      out_.errors.push_back("unsupported metric type");
      return;
    }
    if (m.point_count == 0) out_.errors.push_back("empty data points. " + m.name + " is dropped");
    if (m.type == MetricType::kExponentialHistogram) {
      out_.errors.push_back("exponential histogram " + GoQuote(m.name) +
                            " is dropped: Vigil does not store native histograms");
      return;
    }
    const std::string type = m.type == MetricType::kGauge     ? "Gauge"
                             : m.type == MetricType::kSum     ? "Sum"
                             : m.type == MetricType::kSummary ? "Summary"
                                                              : "Histogram";
    const std::string name = OtlpPrometheusName(m.name, m.unit, type, m.monotonic);
    for (const NumberPoint& p : m.numbers) {
      Add(type, p.attributes, {{"__name__", name}}, p.time_ns, Value(p.value, p.flags));
    }
    for (const HistogramPoint& p : m.histograms) AddHistogram(type, name, p);
    for (const SummaryPoint& p : m.summaries) AddSummary(type, name, p);
  }

  static double Value(double v, uint32_t flags) {
    return (flags & kFlagNoRecordedValue) != 0 ? StaleNaN() : v;
  }

  void AddHistogram(const std::string& type, const std::string& name, const HistogramPoint& p) {
    if (p.sum)
      Add(type, p.attributes, {{"__name__", name + "_sum"}}, p.time_ns, Value(*p.sum, p.flags));
    Add(type, p.attributes, {{"__name__", name + "_count"}}, p.time_ns,
        Value(static_cast<double>(p.count), p.flags));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < p.explicit_bounds.size() && i < p.bucket_counts.size(); ++i) {
      cumulative += p.bucket_counts[i];
      Add(type, p.attributes,
          {{"__name__", name + "_bucket"}, {"le", GoFloat(p.explicit_bounds[i])}}, p.time_ns,
          Value(static_cast<double>(cumulative), p.flags));
    }
    Add(type, p.attributes, {{"__name__", name + "_bucket"}, {"le", "+Inf"}}, p.time_ns,
        Value(static_cast<double>(p.count), p.flags));
  }

  void AddSummary(const std::string& type, const std::string& name, const SummaryPoint& p) {
    Add(type, p.attributes, {{"__name__", name + "_sum"}}, p.time_ns, Value(p.sum, p.flags));
    Add(type, p.attributes, {{"__name__", name + "_count"}}, p.time_ns,
        Value(static_cast<double>(p.count), p.flags));
    for (const auto& [quantile, value] : p.quantiles) {
      Add(type, p.attributes, {{"__name__", name}, {"quantile", GoFloat(quantile)}}, p.time_ns,
          Value(value, p.flags));
    }
  }

  void AddTargetInfo(uint64_t newest_ns) {
    Attributes rest;
    for (const auto& kv : *resource_) {
      if (kv.first != kServiceName && kv.first != kServiceNamespace &&
          kv.first != kServiceInstanceId) {
        rest.push_back(kv);
      }
    }
    if (rest.empty()) return;
    Add("info", rest, {{"__name__", "target_info"}}, newest_ns, 1);
  }

  // strconv.FormatFloat(v, 'f', -1, 64).
  static std::string GoFloat(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    char buf[400];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    return std::string(buf, end);
  }

  // otlptranslator's createAttributes plus addSample.
  void Add(const std::string& type, const Attributes& attributes,
           const std::vector<std::pair<std::string, std::string>>& extras, uint64_t time_ns,
           double value) {
    budget_ -= static_cast<int64_t>(attributes.size() + extras.size() + 2);
    if (budget_ < 0) return;
    Attributes sorted = attributes;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::map<std::string, std::string> labels;
    for (const auto& [key, v] : sorted) {
      const std::string name = OtlpLabelName(key);
      auto [it, added] = labels.emplace(name, v);
      if (!added) it->second += ";" + v;
    }
    if (const std::string* service = Find(*resource_, kServiceName)) {
      const std::string* ns = Find(*resource_, kServiceNamespace);
      labels["job"] = ns != nullptr ? *ns + "/" + *service : *service;
    }
    if (const std::string* instance = Find(*resource_, kServiceInstanceId)) {
      labels["instance"] = *instance;
    }
    for (const auto& [name, v] : extras) {
      const bool reserved = name.size() > 4 && name.starts_with("__") && name.ends_with("__");
      labels[reserved ? name : OtlpLabelName(name)] = v;
    }
    std::string signature = type;
    for (const auto& [n, v] : labels) signature += "-" + n + "-" + v;
    OtlpSeries& series = series_[signature];
    if (series.labels.empty()) {
      for (const auto& [n, v] : labels) series.labels.push_back({n, v});
    }
    series.samples.emplace_back(static_cast<int64_t>(time_ns / 1'000'000), value);
  }

  OtlpTranslation& out_;
  int64_t budget_;
  const Attributes* resource_ = nullptr;
  std::map<std::string, OtlpSeries> series_;
};

}  // namespace

std::string OtlpLabelName(std::string_view key) {
  if (key.empty()) return "";
  std::string out;
  ForEachRune(key, [&](std::string_view rune, bool alnum) {
    if (alnum) {
      out += rune;
    } else {
      out += '_';
    }
  });
  if (std::isdigit(static_cast<unsigned char>(out[0]))) out = "key_" + out;
  return out;
}

std::string OtlpPrometheusName(std::string_view name, std::string_view unit, std::string_view type,
                               bool monotonic) {
  std::vector<std::string> tokens = AlnumTokens(name);
  const size_t slash = unit.find('/');
  const std::string_view main_unit = Trim(unit.substr(0, slash));
  if (!main_unit.empty() && !HasBraces(main_unit)) {
    const std::string word = JoinTokens(AlnumTokens(UnitWord(main_unit)));
    if (!word.empty() && !Contains(tokens, word)) tokens.push_back(word);
  }
  if (slash != std::string_view::npos && slash + 1 < unit.size()) {
    const std::string_view per_unit = Trim(unit.substr(slash + 1));
    if (!per_unit.empty() && !HasBraces(per_unit)) {
      const std::string word = JoinTokens(AlnumTokens(PerUnitWord(per_unit)));
      if (!word.empty() && !Contains(tokens, word)) {
        tokens.push_back("per");
        tokens.push_back(word);
      }
    }
  }
  if (type == "Sum" && monotonic) MoveToEnd(tokens, "total");
  if (unit == "1" && type == "Gauge") MoveToEnd(tokens, "ratio");
  std::string out = JoinTokens(tokens);
  if (!out.empty() && std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  return out;
}

Result<OtlpTranslation> TranslateOtlpMetrics(std::string_view request) {
  OtlpTranslation out;
  Translator translator(out, LabelBudget(request.size()));
  const Status st =
      ForFields(request, [&](uint32_t field, WireType type, ProtoReader& r) -> Status {
        if (field != 1) return r.Skip(type);
        std::string_view bytes;
        VIGIL_RETURN_IF_ERROR(Bytes(r, type, field, &bytes));
        ResourceMetrics rm;
        VIGIL_RETURN_IF_ERROR(DecodeResourceMetrics(bytes, &rm));
        translator.Resource(rm);
        return Status::OK();
      });
  if (!st.ok()) return Status::InvalidArgument("decoding OTLP metrics: " + st.message());
  if (translator.over_budget()) {
    return Status::InvalidArgument("OTLP request expands to too many series labels");
  }
  translator.Finish();
  return out;
}

}  // namespace vigil::web
