#include "storage/metrics_registry.h"

#include <charconv>
#include <cmath>

namespace vigil {

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  // Go's strconv.FormatFloat(v, 'f'|'e', -1, 64) as Prometheus uses it writes
  // exponents with at least two digits ("1e+06", "1e-07").
  auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e);
    std::string exp = s.substr(e + 1);
    char sign = '+';
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) {
      sign = exp[0];
      exp = exp.substr(1);
    }
    if (exp.size() < 2) exp = "0" + exp;
    s = mant + "e" + sign + exp;
  }
  return s;
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
