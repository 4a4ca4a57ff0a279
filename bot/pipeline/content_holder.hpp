#pragma once
// The live content, swapped whole on reload (SIGHUP). Readers take a snapshot and keep it for the
// duration of one event, so a reload never changes content under a running handler.
#include <memory>
#include <mutex>

#include "messages/content.hpp"

namespace pgibot::pipeline {

class ContentHolder {
public:
    explicit ContentHolder(std::shared_ptr<const messages::Content> content) : content_(std::move(content)) {}
    [[nodiscard]] std::shared_ptr<const messages::Content> get() const {
        std::lock_guard lock(mutex_);
        return content_;
    }
    void set(std::shared_ptr<const messages::Content> content) {
        std::lock_guard lock(mutex_);
        content_ = std::move(content);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const messages::Content> content_;
};

}  // namespace pgibot::pipeline
