// OTLP/JSON (the protobuf JSON mapping of opentelemetry-proto, as OTLP/HTTP
// sends it with Content-Type: application/json) re-encoded as the protobuf the
// decoder of web/otlp_translate.cc reads. Field names in lowerCamelCase or
// snake_case; 64-bit integers as numbers or strings; enums as numbers or names;
// bytes in base64; doubles as numbers or "NaN"/"Infinity"/"-Infinity".
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "remote/protobuf_wire.h"
#include "web/otlp_translate.h"

namespace vigil::web {
namespace {

using remote::ProtoReader;
using remote::ProtoWriter;
using remote::WireType;

using nlohmann::json;

struct JsonError {
  std::string message;
};

[[noreturn]] void Fail(const std::string& what) { throw JsonError{what}; }

// The member `camel` (or its snake_case spelling `snake`), or null.
const json* Member(const json& object, const char* camel, const char* snake) {
  if (!object.is_object()) Fail("expected an object");
  for (const char* name : {camel, snake}) {
    const auto it = object.find(name);
    if (it != object.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

template <typename Fn>
void ForEach(const json& object, const char* camel, const char* snake, Fn&& fn) {
  const json* list = Member(object, camel, snake);
  if (list == nullptr) return;
  if (!list->is_array()) Fail(std::string(camel) + ": expected an array");
  for (const json& item : *list) fn(item);
}

uint64_t Unsigned(const json& v, const char* what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    uint64_t out = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return out;
  }
  Fail(std::string(what) + ": expected an unsigned integer");
}

int64_t Signed(const json& v, const char* what) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    int64_t out = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return out;
  }
  Fail(std::string(what) + ": expected an integer");
}

double Number(const json& v, const char* what) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  }
  Fail(std::string(what) + ": expected a number");
}

const std::string& String(const json& v, const char* what) {
  if (!v.is_string()) Fail(std::string(what) + ": expected a string");
  return v.get_ref<const std::string&>();
}

std::string Base64Decode(const std::string& s) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : s) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' || c == '-' ? 62
            : c == '/' || c == '_' ? 63
                                   : -1;
    if (c == '=') break;
    if (v < 0) Fail("bytesValue: invalid base64");
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>(bits >> 16);
      out += static_cast<char>(bits >> 8);
      out += static_cast<char>(bits);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) out += static_cast<char>(bits >> 4);
  if (count == 3) {
    out += static_cast<char>(bits >> 10);
    out += static_cast<char>(bits >> 2);
  }
  return out;
}

void Fixed64(ProtoWriter& w, uint32_t field, uint64_t v) {
  double d;  // ProtoWriter writes 8-byte fields as doubles: the same bits
  std::memcpy(&d, &v, sizeof(d));
  w.Double(field, d);
}

constexpr int kMaxDepth = 64;

ProtoWriter AnyValue(const json& v, int depth);

ProtoWriter KeyValue(const json& kv, int depth) {
  ProtoWriter out;
  if (const json* key = Member(kv, "key", "key")) out.Bytes(1, String(*key, "key"));
  if (const json* value = Member(kv, "value", "value")) out.Message(2, AnyValue(*value, depth));
  return out;
}

ProtoWriter AnyValue(const json& v, int depth) {
  if (depth > kMaxDepth) Fail("attribute values nest too deep");
  ProtoWriter out;
  if (const json* s = Member(v, "stringValue", "string_value")) {
    out.Bytes(1, String(*s, "stringValue"));
  } else if (const json* b = Member(v, "boolValue", "bool_value")) {
    if (!b->is_boolean()) Fail("boolValue: expected a boolean");
    out.Varint(2, b->get<bool>() ? 1 : 0);
  } else if (const json* i = Member(v, "intValue", "int_value")) {
    out.Int64(3, Signed(*i, "intValue"));
  } else if (const json* d = Member(v, "doubleValue", "double_value")) {
    out.Double(4, Number(*d, "doubleValue"));
  } else if (const json* a = Member(v, "arrayValue", "array_value")) {
    ProtoWriter array;
    ForEach(*a, "values", "values",
            [&](const json& item) { array.Message(1, AnyValue(item, depth + 1)); });
    out.Message(5, array);
  } else if (const json* m = Member(v, "kvlistValue", "kvlist_value")) {
    ProtoWriter list;
    ForEach(*m, "values", "values",
            [&](const json& item) { list.Message(1, KeyValue(item, depth + 1)); });
    out.Message(6, list);
  } else if (const json* by = Member(v, "bytesValue", "bytes_value")) {
    out.Bytes(7, Base64Decode(String(*by, "bytesValue")));
  }
  return out;
}

void Attributes(const json& object, uint32_t field, ProtoWriter& out) {
  ForEach(object, "attributes", "attributes",
          [&](const json& kv) { out.Message(field, KeyValue(kv, 0)); });
}

void Time(const json& point, ProtoWriter& out) {
  if (const json* t = Member(point, "timeUnixNano", "time_unix_nano")) {
    Fixed64(out, 3, Unsigned(*t, "timeUnixNano"));
  }
}

void Flags(const json& point, uint32_t field, ProtoWriter& out) {
  if (const json* f = Member(point, "flags", "flags")) out.Varint(field, Unsigned(*f, "flags"));
}

ProtoWriter NumberPoint(const json& p) {
  ProtoWriter out;
  Attributes(p, 7, out);
  Time(p, out);
  if (const json* d = Member(p, "asDouble", "as_double")) out.Double(4, Number(*d, "asDouble"));
  if (const json* i = Member(p, "asInt", "as_int")) {
    Fixed64(out, 6, static_cast<uint64_t>(Signed(*i, "asInt")));
  }
  Flags(p, 8, out);
  return out;
}

std::string Packed(const json& p, const char* camel, const char* snake, bool doubles) {
  std::string packed;
  ForEach(p, camel, snake, [&](const json& v) {
    uint64_t bits = 0;
    if (doubles) {
      const double d = Number(v, camel);
      std::memcpy(&bits, &d, sizeof(bits));
    } else {
      bits = Unsigned(v, camel);
    }
    for (int i = 0; i < 8; ++i) packed += static_cast<char>((bits >> (8 * i)) & 0xff);
  });
  return packed;
}

ProtoWriter HistogramPoint(const json& p) {
  ProtoWriter out;
  Attributes(p, 9, out);
  Time(p, out);
  if (const json* c = Member(p, "count", "count")) Fixed64(out, 4, Unsigned(*c, "count"));
  if (const json* s = Member(p, "sum", "sum")) out.Double(5, Number(*s, "sum"));
  out.Bytes(6, Packed(p, "bucketCounts", "bucket_counts", false));
  out.Bytes(7, Packed(p, "explicitBounds", "explicit_bounds", true));
  Flags(p, 10, out);
  return out;
}

ProtoWriter SummaryPoint(const json& p) {
  ProtoWriter out;
  Attributes(p, 7, out);
  Time(p, out);
  if (const json* c = Member(p, "count", "count")) Fixed64(out, 4, Unsigned(*c, "count"));
  if (const json* s = Member(p, "sum", "sum")) out.Double(5, Number(*s, "sum"));
  ForEach(p, "quantileValues", "quantile_values", [&](const json& q) {
    ProtoWriter v;
    if (const json* x = Member(q, "quantile", "quantile")) v.Double(1, Number(*x, "quantile"));
    if (const json* x = Member(q, "value", "value")) v.Double(2, Number(*x, "value"));
    out.Message(6, v);
  });
  Flags(p, 8, out);
  return out;
}

uint64_t Temporality(const json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "AGGREGATION_TEMPORALITY_DELTA") return 1;
    if (s == "AGGREGATION_TEMPORALITY_CUMULATIVE") return 2;
    if (s == "AGGREGATION_TEMPORALITY_UNSPECIFIED") return 0;
  }
  return Unsigned(v, "aggregationTemporality");
}

// Gauge/Sum/Histogram/ExponentialHistogram/Summary: points = 1, temporality = 2, monotonic = 3.
ProtoWriter Data(const json& d, ProtoWriter (*point)(const json&)) {
  ProtoWriter out;
  ForEach(d, "dataPoints", "data_points", [&](const json& p) { out.Message(1, point(p)); });
  if (const json* t = Member(d, "aggregationTemporality", "aggregation_temporality")) {
    out.Varint(2, Temporality(*t));
  }
  if (const json* m = Member(d, "isMonotonic", "is_monotonic")) {
    if (!m->is_boolean()) Fail("isMonotonic: expected a boolean");
    out.Varint(3, m->get<bool>() ? 1 : 0);
  }
  return out;
}

ProtoWriter ExponentialPoint(const json& p) {
  ProtoWriter out;  // only its timestamp is used (for target_info)
  Time(p, out);
  return out;
}

ProtoWriter Metric(const json& m) {
  ProtoWriter out;
  if (const json* n = Member(m, "name", "name")) out.Bytes(1, String(*n, "name"));
  if (const json* u = Member(m, "unit", "unit")) out.Bytes(3, String(*u, "unit"));
  if (const json* d = Member(m, "gauge", "gauge")) out.Message(5, Data(*d, NumberPoint));
  if (const json* d = Member(m, "sum", "sum")) out.Message(7, Data(*d, NumberPoint));
  if (const json* d = Member(m, "histogram", "histogram")) out.Message(9, Data(*d, HistogramPoint));
  if (const json* d = Member(m, "exponentialHistogram", "exponential_histogram")) {
    out.Message(10, Data(*d, ExponentialPoint));
  }
  if (const json* d = Member(m, "summary", "summary")) out.Message(11, Data(*d, SummaryPoint));
  return out;
}

}  // namespace

Result<std::string> OtlpJsonToProtobuf(std::string_view request) {
  const json root = json::parse(request.begin(), request.end(), nullptr, false);
  if (root.is_discarded()) return Status::InvalidArgument("decoding OTLP metrics: invalid JSON");
  try {
    ProtoWriter out;
    ForEach(root, "resourceMetrics", "resource_metrics", [&](const json& rm) {
      ProtoWriter resource_metrics;
      if (const json* r = Member(rm, "resource", "resource")) {
        ProtoWriter resource;
        Attributes(*r, 1, resource);
        resource_metrics.Message(1, resource);
      }
      ForEach(rm, "scopeMetrics", "scope_metrics", [&](const json& sm) {
        ProtoWriter scope;
        ForEach(sm, "metrics", "metrics", [&](const json& m) { scope.Message(2, Metric(m)); });
        resource_metrics.Message(2, scope);
      });
      out.Message(1, resource_metrics);
    });
    return out.Take();
  } catch (const JsonError& e) {
    return Status::InvalidArgument("decoding OTLP metrics: " + e.message);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("decoding OTLP metrics: ") + e.what());
  }
}

}  // namespace vigil::web
