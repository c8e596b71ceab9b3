#include "web/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/metrics_registry.h"

namespace vigil::web {

void AppendJsonString(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_element_.empty()) return;
  if (has_element_.back()) out_ += ',';
  has_element_.back() = true;
}

void JsonWriter::BeginObject() {
  BeforeValue();
  out_ += '{';
  has_element_.push_back(false);
}

void JsonWriter::EndObject() {
  out_ += '}';
  has_element_.pop_back();
}

void JsonWriter::BeginArray() {
  BeforeValue();
  out_ += '[';
  has_element_.push_back(false);
}

void JsonWriter::EndArray() {
  out_ += ']';
  has_element_.pop_back();
}

void JsonWriter::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_ += ':';
  after_key_ = true;
}

void JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
}

void JsonWriter::Int(int64_t value) {
  BeforeValue();
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out_.append(buf, res.ptr);
}

void AppendGoFloat(std::string& out, double value) {
  // Go (encoding/json and Prometheus's sample marshalling) writes the shortest
  // round-trip digits in plain notation for magnitudes in [1e-6, 1e21) and
  // in exponent notation ("1e-07", "1e+21") outside.
  char buf[400];
  const double abs = std::fabs(value);
  const bool plain = abs == 0 || (abs >= 1e-6 && abs < 1e21);
  const auto res = std::to_chars(buf, buf + sizeof(buf), value,
                                 plain ? std::chars_format::fixed : std::chars_format::scientific);
  out.append(buf, res.ptr);
}

void JsonWriter::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_ += "null";
    return;
  }
  AppendGoFloat(out_, value);
}

void JsonWriter::Bool(bool value) {
  BeforeValue();
  out_ += value ? "true" : "false";
}

void JsonWriter::Null() {
  BeforeValue();
  out_ += "null";
}

void JsonWriter::Timestamp(int64_t ms) {
  BeforeValue();
  // Prometheus: strconv.FormatFloat(float64(t)/1000, 'f', -1, 64). Integer
  // arithmetic gives the same digits without rounding surprises.
  if (ms < 0) {
    out_ += '-';
    ms = -ms;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), ms / 1000);
  out_.append(buf, res.ptr);
  int64_t frac = ms % 1000;
  if (frac == 0) return;
  int digits = 3;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  std::snprintf(buf, sizeof(buf), ".%0*lld", digits, static_cast<long long>(frac));
  out_ += buf;
}

void JsonWriter::SampleValue(double value) {
  BeforeValue();
  out_ += '"';
  if (std::isfinite(value)) {
    AppendGoFloat(out_, value);
  } else {
    out_ += FormatFloat(value);  // "NaN", "+Inf", "-Inf"
  }
  out_ += '"';
}

void JsonWriter::LabelSet(const Labels& labels) {
  BeginObject();
  for (const auto& label : labels) {
    Key(label.name);
    String(label.value);
  }
  EndObject();
}

void JsonWriter::StringArray(const std::vector<std::string>& values) {
  BeginArray();
  for (const auto& v : values) String(v);
  EndArray();
}

}  // namespace vigil::web
