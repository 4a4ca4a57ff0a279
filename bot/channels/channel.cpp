#include "bot/channels/channel.hpp"

namespace pgibot::channels {

std::string_view to_string(SendOutcome o) {
    switch (o) {
        case SendOutcome::sent: return "sent";
        case SendOutcome::retry: return "retry";
        case SendOutcome::unreachable: return "unreachable";
        case SendOutcome::auth: return "auth";
        case SendOutcome::failed: return "failed";
    }
    return "failed";
}

}  // namespace pgibot::channels
