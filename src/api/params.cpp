#include "api/params.hpp"

#include <fmt/format.h>

#include <charconv>

namespace cachelab::api {
namespace {

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string> query_param(boost::urls::url_view url, std::string_view name) {
  auto params = url.params();
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return std::string((*it).value);
}

Result<std::int64_t> parse_id(std::string_view text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  auto v = digits ? to_int(text) : std::nullopt;
  if (!v || *v < 1) {
    return invalid("invalid_id", fmt::format("id must be an integer from 1 to {}", max_id));
  }
  return *v;
}

Result<std::int64_t> int_param(boost::urls::url_view url, std::string_view name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max) {
  auto raw = query_param(url, name);
  if (!raw) return fallback;
  auto v = to_int(*raw);
  if (!v || *v < min || *v > max) {
    return invalid(fmt::format("invalid_{}", name),
                   fmt::format("{} must be an integer from {} to {}", name, min, max));
  }
  return *v;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

Result<std::string> search_query(boost::urls::url_view url) {
  auto raw = query_param(url, "q");
  const auto bad = [](std::string why) { return invalid("invalid_q", std::move(why)); };
  if (!raw) return bad("q is required: the text to search for (1 to 100 characters)");
  if (!valid_utf8(*raw)) return bad("q must be valid UTF-8");
  std::string out;
  bool pending_space = false;
  for (char ch : *raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      pending_space = !out.empty();
      continue;
    }
    if (c < 0x20 || c == 0x7f) return bad("q must not contain control characters");
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
  }
  std::size_t chars = 0;
  for (char ch : out) chars += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
  if (chars == 0 || chars > max_query_chars) {
    return bad(fmt::format("q must be 1 to {} characters after trimming (got {})", max_query_chars, chars));
  }
  return out;
}

Result<Page> page_params(boost::urls::url_view url) {
  auto limit = int_param(url, "limit", 10, 1, max_page_limit);
  if (!limit) return limit.error();
  auto offset = int_param(url, "offset", 0, 0, max_offset);
  if (!offset) return offset.error();
  return Page{static_cast<int>(*limit), *offset};
}

Result<service::CacheMode> cache_mode(boost::urls::url_view url) {
  auto raw = query_param(url, "cache");
  if (!raw) return service::CacheMode::use;
  if (*raw == "bypass") return service::CacheMode::bypass;
  return invalid("invalid_cache", "cache must be 'bypass' when given");
}

}  // namespace cachelab::api
