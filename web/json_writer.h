// JsonWriter: a small streaming JSON writer for API responses. It writes
// numbers exactly as Prometheus does (timestamps as float seconds with
// millisecond precision, sample values as strings) and never builds a DOM, so
// large range-query results cost one pass and one buffer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"

namespace vigil::web {

class JsonWriter {
 public:
  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // An object key; the next value written belongs to it.
  void Key(std::string_view key);

  void String(std::string_view value);
  void Int(int64_t value);
  void Double(double value);  // finite values only; non-finite become null
  void Bool(bool value);
  void Null();
  // A millisecond timestamp as float seconds: 1700000000.123, 1700000000.
  void Timestamp(int64_t ms);
  // A sample value as Prometheus's JSON string: "1", "0.5", "NaN", "+Inf".
  void SampleValue(double value);
  // {"name":"value",...} in label order.
  void LabelSet(const Labels& labels);
  // ["a","b",...]
  void StringArray(const std::vector<std::string>& values);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  // Writes the separating comma when a value follows another in a container.
  void BeforeValue();

  std::string out_;
  // One flag per open container: whether it already holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends a finite float as Go prints it in JSON: plain digits in [1e-6, 1e21),
// exponent form outside.
void AppendGoFloat(std::string& out, double value);

// Appends `value` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace vigil::web
