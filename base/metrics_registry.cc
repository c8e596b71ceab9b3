#include "base/metrics_registry.h"

#include <charconv>
#include <cmath>

namespace vigil {

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(v, 'g', -1, 64), which the text exposition format
  // uses: the shortest round-trip digits, in exponent form when the decimal
  // exponent is below -4 or at least 6 (Go's threshold for shortest 'g').
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view text(buf, sci.ptr - buf);
  auto e = text.find('e');
  int exp = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+'), text.data() + text.size(), exp);
  if (exp >= -4 && exp < 6) {
    auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    return std::string(buf, fixed.ptr);
  }
  std::string out(text.substr(0, e));
  out += exp < 0 ? "e-" : "e+";
  int mag = exp < 0 ? -exp : exp;
  if (mag < 10) out += '0';
  out += std::to_string(mag);
  return out;
}

void MetricsWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& l : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += l.name;
      out_ += "=\"";
      out_ += EscapeLabelValue(l.value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += FormatFloat(value);
  out_ += '\n';
}

MetricsRegistry& MetricsRegistry::Global() {
  static MetricsRegistry registry;
  return registry;
}

int MetricsRegistry::Add(Collector collector) {
  std::lock_guard lock(mu_);
  int h = next_++;
  collectors_.emplace(h, std::move(collector));
  return h;
}

void MetricsRegistry::Remove(int handle) {
  std::lock_guard lock(mu_);
  collectors_.erase(handle);
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  MetricsWriter w;
  for (const auto& [h, c] : collectors_) c(w);
  return w.text();
}

}  // namespace vigil
