#include "scraper/scrape_cache.h"

namespace vigil::scraper {

void ScrapeCache::BeginScrape() {
  ++iteration_;
  touched_ = 0;
  prev_ = nullptr;
  current_ = nullptr;
  alias_hashes_.clear();
}

ScrapeCache::Entry* ScrapeCache::Add(std::string_view series, std::optional<uint64_t> labels_hash) {
  if (!aliases_) IndexAliases();  // first miss of this scrape
  Node& node = *map_.try_emplace(std::string(series)).first;
  current_ = &node;
  Entry& e = node.second;
  if (!labels_hash) {
    e.dropped_ = true;
    return &e;
  }
  e.hash_ = *labels_hash;
  if (auto [it, inserted] = aliases_->try_emplace(e.hash_, &e); !inserted) {
    Entry& other = *it->second;
    // Its sample in this scrape (if any) went in without the alias set: record it.
    if (!other.aliased_ && other.scraped_ == iteration_) alias_hashes_.insert(other.hash_);
    other.aliased_ = true;
    e.aliased_ = true;
  }
  return &e;
}

void ScrapeCache::IndexAliases() {
  aliases_.emplace();
  aliases_->reserve(map_.size());
  for (auto& [series, e] : map_) {
    if (!e.dropped_) aliases_->emplace(e.hash_, &e);
  }
}

void ScrapeCache::EndLines(bool ok) {
  aliases_.reset();
  if (!ok) {
    first_ = nullptr;
    alias_hashes_.clear();  // nothing of this scrape was appended
  } else if (prev_) {
    prev_->second.next_ = nullptr;
  } else {
    first_ = nullptr;  // an empty body: the old first line may be forgotten
  }
}

bool ScrapeCache::Sweep(Entry& e, bool ok) {
  CatchUp(e);
  if (e.scraped_ == iteration_) {
    if (ok) {
      e.last_seen_ = iteration_;
      return false;
    }
    e.next_ = nullptr;
  }
  return NeedsStaleMarker(e);
}

bool ScrapeCache::NeedsStaleMarker(const Entry& e) const {
  if (e.dropped_ || !e.tracked_ || e.last_seen_ == 0 || e.last_seen_ + 1 != iteration_) {
    return false;
  }
  return !e.aliased_ || !alias_hashes_.count(e.hash_);  // another spelling may still be there
}

void ScrapeCache::FinishScrape(bool ok) {
  last_ok_ = ok;
  prev_ = nullptr;
  current_ = nullptr;
}

}  // namespace vigil::scraper
