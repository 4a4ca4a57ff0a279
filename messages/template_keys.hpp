#pragma once
// Template keys the handlers use. `pgibot content check` fails when one is missing from
// content/templates/*.toml. Each dialog keeps its own list.
#include <string_view>
#include <vector>

#include "messages/keys/conversation.hpp"
#include "messages/keys/tipoff.hpp"

namespace pgibot::messages {

inline std::vector<std::string_view> required_template_keys() {
    std::vector<std::string_view> keys(keys::kConversation.begin(), keys::kConversation.end());
    keys.insert(keys.end(), keys::kTipoff.begin(), keys::kTipoff.end());
    return keys;
}

}  // namespace pgibot::messages
