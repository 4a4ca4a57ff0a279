#pragma once
#include <array>
#include <string_view>

namespace pgibot::messages::keys {
// Keys used by handlers/tipoff (owned by that dialog).
inline constexpr std::array<std::string_view, 0> kTipoff{};
}  // namespace pgibot::messages::keys
