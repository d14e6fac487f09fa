// ASCII case helpers for protocol text: header names, schemes, host names,
// hex digits, certificate names. Only 'A'-'Z' and 'a'-'z' fold; every other
// byte (UTF-8 included) compares as itself. std::tolower is not used because it
// follows the C locale, and protocol text must not change meaning with it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dialback {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lower-case copy of `text`.
inline std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

constexpr bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

}  // namespace dialback
