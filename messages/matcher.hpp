#pragma once
// Ranks content topics for a citizen's question (BM25 over syllable unigrams and bigrams of the
// example questions, keywords and titles; accented and folded forms both indexed, accented matches
// ranked higher).
#include <memory>
#include <string_view>
#include <vector>

#include "messages/content.hpp"

namespace pgibot::messages {

struct Scored {
    const Topic* topic = nullptr;
    double score = 0;
};

struct MatchResult {
    enum class Verdict { answer, ambiguous, none };
    Verdict verdict = Verdict::none;
    std::vector<Scored> top;  // best first, at most 3
};

class Matcher {
public:
    Matcher(const Catalogue& catalogue, const Normalizer& normalizer);
    [[nodiscard]] MatchResult match(std::string_view question) const;
    // (impl details are the implementer's)
private:
    struct Index;
    std::shared_ptr<const Index> index_;
};

}  // namespace pgibot::messages
