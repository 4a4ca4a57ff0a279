// BM25 retrieval over the content topics.
//
// Documents: every example question, keyword, title and short title of a topic. Terms: syllable
// unigrams and bigrams, each in two forms: folded (no diacritics: what every citizen's text shares)
// and accented (normalised, exact marks). Accented terms only count when the question itself carries
// diacritics: a citizen who types marks means them ("mua" is then "buy", not "múa"), while an
// unaccented question can only be compared on the folded key.
//
// Everything that does not depend on the question is precomputed: each posting stores its full BM25
// contribution, so scoring a question is a few hash look-ups plus additions into a per-thread buffer.
#include "messages/matcher.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "messages/normalize.hpp"

namespace pgibot::messages {

namespace {

#ifdef PGIBOT_MATCHER_TUNING
double tuning_param(const char* name, double value) {
    const char* env = std::getenv(name);
    return env != nullptr ? std::atof(env) : value;
}
#define PGIBOT_PARAM(name, value) const double name = tuning_param(#name, value)
#else
#define PGIBOT_PARAM(name, value) constexpr double name = value
#endif

// BM25 parameters. Documents are short (3-15 syllables), so length normalisation is damped.
PGIBOT_PARAM(kK1, 1.2);
PGIBOT_PARAM(kB, 0.5);
// Term weights by kind, relative to a folded unigram.
PGIBOT_PARAM(kFoldedUnigram, 1.0);
PGIBOT_PARAM(kAccentedUnigram, 0.6);
PGIBOT_PARAM(kFoldedBigram, 0.8);
PGIBOT_PARAM(kAccentedBigram, 0.5);
// Weight of a question syllable the catalogue has never seen, as a share of the rarest term's idf:
// unknown words ("vàng", "bóng đá") are evidence that the question is about something else.
PGIBOT_PARAM(kUnknownShare, 0.7);

// Verdict thresholds, tuned on tests/messages/questions.tsv (see the accuracy test).
PGIBOT_PARAM(kMinConfidence, 0.42);  // share of the question's weight the best document explains
PGIBOT_PARAM(kTieRatio, 0.92);       // runner-up within this share of the best: ask which one

enum class Kind : std::uint64_t { folded_unigram = 0, accented_unigram = 1, folded_bigram = 2, accented_bigram = 3 };

constexpr std::uint64_t term_key(Kind kind, std::uint32_t a, std::uint32_t b = 0) {
    return (static_cast<std::uint64_t>(kind) << 62) | (static_cast<std::uint64_t>(a) << 31) | b;
}

double kind_weight(Kind kind) {
    switch (kind) {
        case Kind::folded_unigram: return kFoldedUnigram;
        case Kind::accented_unigram: return kAccentedUnigram;
        case Kind::folded_bigram: return kFoldedBigram;
        case Kind::accented_bigram: return kAccentedBigram;
    }
    return 0;
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

struct Posting {
    std::uint32_t doc = 0;
    float contribution = 0;  // idf * kind weight * saturated tf, all known at build time
};

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Open-addressing table from term key to term index: question scoring does ~30 look-ups, and a flat
// array with linear probing keeps them within a cache line or two (std::unordered_map chases nodes).
class TermTable {
public:
    void build(const std::unordered_map<std::uint64_t, std::uint32_t>& terms) {
        std::size_t size = 16;
        while (size < terms.size() * 2) size *= 2;
        mask_ = size - 1;
        keys_.assign(size, kEmpty);
        values_.assign(size, 0);
        for (const auto& [key, value] : terms) {
            std::size_t slot = hash(key) & mask_;
            while (keys_[slot] != kEmpty) slot = (slot + 1) & mask_;
            keys_[slot] = key;
            values_[slot] = value;
        }
    }
    // The term index, or -1 when the catalogue never uses this term.
    [[nodiscard]] std::int64_t find(std::uint64_t key) const {
        if (keys_.empty()) return -1;
        for (std::size_t slot = hash(key) & mask_;; slot = (slot + 1) & mask_) {
            if (keys_[slot] == key) return values_[slot];
            if (keys_[slot] == kEmpty) return -1;
        }
    }

private:
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  // no key has all bits set: ids are < 2^31 - 1
    static std::size_t hash(std::uint64_t k) {
        k ^= k >> 33;  // murmur3 finaliser: spreads the packed ids over the low bits
        k *= 0xff51afd7ed558ccdULL;
        k ^= k >> 33;
        return static_cast<std::size_t>(k);
    }
    std::vector<std::uint64_t> keys_;
    std::vector<std::uint32_t> values_;
    std::size_t mask_ = 0;
};

}  // namespace

struct Matcher::Index {
    Normalizer normalizer;  // a copy: the matcher must not outlive someone else's normaliser
    std::vector<const Topic*> topics;
    std::vector<std::uint32_t> doc_topic;
    std::vector<std::uint32_t> topic_docs_begin;  // a topic's documents are contiguous: [begin[t], begin[t + 1])

    // Syllable strings (accented and folded share one id space) and, per id, the id of its folded form.
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> syllables;
    std::vector<std::uint32_t> folded_of;

    std::unordered_map<std::uint64_t, std::uint32_t> terms;  // term_key -> term index (build time)
    TermTable term_table;                                    // the same, for question time
    std::vector<double> term_weight;                         // idf * kind weight (for the question's own weight)
    std::vector<std::uint32_t> postings_begin;               // CSR offsets, size terms + 1
    std::vector<Posting> postings;
    double unknown_weight = 0;

    std::uint32_t syllable_id(const std::string& s) {
        auto [it, fresh] = syllables.try_emplace(s, static_cast<std::uint32_t>(folded_of.size()));
        if (fresh) {
            folded_of.push_back(it->second);
            if (!is_ascii(s)) {
                const auto folded = syllable_id(fold_diacritics(s));
                folded_of[it->second] = folded;
            }
        }
        return it->second;
    }
};

namespace {

// The terms of one text, as (kind, a, b) keys; the same builder serves documents and questions.
struct TermList {
    std::vector<std::uint64_t> keys;
    std::size_t length = 0;  // syllables
};

}  // namespace

Matcher::Matcher(const Catalogue& catalogue, const Normalizer& normalizer) {
    auto index = std::make_shared<Index>();
    index->normalizer = normalizer;

    struct Doc {
        std::uint32_t topic = 0;
        std::vector<std::uint64_t> keys;
        std::size_t length = 0;
    };
    std::vector<Doc> docs;
    auto add_doc = [&](std::uint32_t topic, std::string_view text) {
        const auto syllables = index->normalizer.syllables(text);
        if (syllables.empty()) return;
        Doc doc{topic, {}, syllables.size()};
        std::vector<std::uint32_t> accented;
        for (const auto& s : syllables) accented.push_back(index->syllable_id(s));
        for (std::size_t i = 0; i < accented.size(); ++i) {
            const auto a = accented[i];
            const auto f = index->folded_of[a];
            doc.keys.push_back(term_key(Kind::folded_unigram, f));
            doc.keys.push_back(term_key(Kind::accented_unigram, a));
            if (i + 1 < accented.size()) {
                const auto a2 = accented[i + 1];
                doc.keys.push_back(term_key(Kind::folded_bigram, f, index->folded_of[a2]));
                doc.keys.push_back(term_key(Kind::accented_bigram, a, a2));
            }
        }
        docs.push_back(std::move(doc));
    };
    for (const auto& topic : catalogue.topics) {
        const auto t = static_cast<std::uint32_t>(index->topics.size());
        index->topics.push_back(&topic);
        add_doc(t, topic.title);
        add_doc(t, topic.short_title);
        for (const auto& q : topic.questions) add_doc(t, q);
        for (const auto& k : topic.keywords) add_doc(t, k);
    }

    // Term statistics: document frequency and per-document term frequency.
    double total_length = 0;
    for (const auto& d : docs) total_length += static_cast<double>(d.length);
    const double n_docs = static_cast<double>(docs.size());
    const double avg_length = docs.empty() ? 1.0 : total_length / n_docs;
    std::vector<std::uint32_t> df;
    std::vector<Kind> term_kind;
    for (auto& d : docs) {
        std::sort(d.keys.begin(), d.keys.end());
        for (std::size_t i = 0; i < d.keys.size(); ++i) {
            if (i > 0 && d.keys[i] == d.keys[i - 1]) continue;
            auto [it, fresh] = index->terms.try_emplace(d.keys[i], static_cast<std::uint32_t>(df.size()));
            if (fresh) {
                df.push_back(0);
                term_kind.push_back(static_cast<Kind>(d.keys[i] >> 62));
            }
            ++df[it->second];
        }
    }
    auto idf = [&](double doc_freq) { return std::log(1.0 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5)); };
    index->term_weight.resize(df.size());
    for (std::size_t t = 0; t < df.size(); ++t) {
        index->term_weight[t] = idf(df[t]) * kind_weight(term_kind[t]);
    }
    index->unknown_weight = idf(0) * kUnknownShare;

    // Postings in CSR layout: one contiguous array, offsets per term.
    index->postings_begin.assign(df.size() + 1, 0);
    for (std::size_t t = 0; t < df.size(); ++t) index->postings_begin[t + 1] = index->postings_begin[t] + df[t];
    index->postings.resize(index->postings_begin.back());
    std::vector<std::uint32_t> fill(index->postings_begin.begin(), index->postings_begin.end() - 1);
    for (std::size_t d = 0; d < docs.size(); ++d) {
        const auto& keys = docs[d].keys;
        const double norm = kK1 * (1.0 - kB + kB * static_cast<double>(docs[d].length) / avg_length);
        for (std::size_t i = 0; i < keys.size();) {
            std::size_t j = i;
            while (j < keys.size() && keys[j] == keys[i]) ++j;
            const double tf = static_cast<double>(j - i);
            const auto term = index->terms.at(keys[i]);
            const double saturated = tf * (kK1 + 1.0) / (tf + norm);
            index->postings[fill[term]++] =
                Posting{static_cast<std::uint32_t>(d), static_cast<float>(index->term_weight[term] * saturated)};
            i = j;
        }
        index->doc_topic.push_back(docs[d].topic);
    }
    index->term_table.build(index->terms);
    index->topic_docs_begin.assign(index->topics.size() + 1, 0);
    for (const auto t : index->doc_topic) ++index->topic_docs_begin[t + 1];
    for (std::size_t t = 0; t < index->topics.size(); ++t) {
        index->topic_docs_begin[t + 1] += index->topic_docs_begin[t];
    }
    index_ = std::move(index);
}

MatchResult Matcher::match(std::string_view question) const {
    const Index& ix = *index_;
    MatchResult result;
    const auto syllables = ix.normalizer.syllables(question);
    if (syllables.empty() || ix.topics.empty()) return result;

    // Per-thread scratch, so concurrent workers never share it and the hot path does not allocate.
    thread_local std::vector<float> doc_score;
    thread_local std::vector<float> topic_score;
    thread_local std::vector<std::uint64_t> keys;
    thread_local std::vector<std::int64_t> accented;  // -1: syllable unknown to the catalogue
    thread_local std::vector<std::int64_t> folded;
    doc_score.assign(ix.doc_topic.size(), 0.0F);
    topic_score.resize(ix.topics.size());
    keys.clear();
    accented.clear();
    folded.clear();

    bool has_marks = false;
    for (const auto& s : syllables) {
        const auto it = ix.syllables.find(std::string_view(s));
        if (it != ix.syllables.end()) {
            accented.push_back(it->second);
            folded.push_back(ix.folded_of[it->second]);
            if (ix.folded_of[it->second] != it->second) has_marks = true;
            continue;
        }
        accented.push_back(-1);
        if (is_ascii(s)) {
            folded.push_back(-1);
            continue;
        }
        has_marks = true;
        const auto f = ix.syllables.find(std::string_view(fold_diacritics(s)));
        folded.push_back(f == ix.syllables.end() ? -1 : static_cast<std::int64_t>(f->second));
    }

    // The question's own weight: what a document saying exactly this would score (tf part ~1).
    // Unknown bigrams are normal paraphrase and do not count; unknown syllables do.
    double self = 0;
    auto add_term = [&](std::uint64_t key) {
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) return;
        keys.push_back(key);
        const auto term = ix.term_table.find(key);
        if (term < 0) return;
        const auto t = static_cast<std::size_t>(term);
        self += ix.term_weight[t];
        for (auto p = ix.postings_begin[t]; p < ix.postings_begin[t + 1]; ++p) {
            doc_score[ix.postings[p].doc] += ix.postings[p].contribution;
        }
    };
    auto id = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
    const std::size_t n = syllables.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto f = folded[i];
        const auto a = accented[i];
        if (f >= 0) {
            add_term(term_key(Kind::folded_unigram, id(f)));
        } else {
            self += ix.unknown_weight;
        }
        if (has_marks) {
            if (a >= 0) {
                add_term(term_key(Kind::accented_unigram, id(a)));
            } else {
                self += ix.unknown_weight * kAccentedUnigram;
            }
        }
        if (i + 1 < n) {
            const auto f2 = folded[i + 1];
            const auto a2 = accented[i + 1];
            if (f >= 0 && f2 >= 0) add_term(term_key(Kind::folded_bigram, id(f), id(f2)));
            if (has_marks && a >= 0 && a2 >= 0) add_term(term_key(Kind::accented_bigram, id(a), id(a2)));
        }
    }

    for (std::size_t t = 0; t < ix.topics.size(); ++t) {
        float best_doc = 0;
        for (auto d = ix.topic_docs_begin[t]; d < ix.topic_docs_begin[t + 1]; ++d) best_doc = std::max(best_doc, doc_score[d]);
        topic_score[t] = best_doc;
    }
    std::array<std::uint32_t, 3> best{};
    std::size_t count = 0;
    for (std::uint32_t t = 0; t < topic_score.size(); ++t) {
        if (topic_score[t] <= 0) continue;
        std::size_t pos = std::min<std::size_t>(count, best.size());
        while (pos > 0 && topic_score[best[pos - 1]] < topic_score[t]) {
            if (pos < best.size()) best[pos] = best[pos - 1];
            --pos;
        }
        if (pos < best.size()) best[pos] = t;
        count = std::min<std::size_t>(count + 1, best.size());
    }
    if (count == 0 || self <= 0) return result;
    const double top = topic_score[best[0]];
    if (top / self < kMinConfidence) return result;

    result.top.reserve(count);
    for (std::size_t i = 0; i < count; ++i) result.top.push_back(Scored{ix.topics[best[i]], topic_score[best[i]]});
    const bool tie = count > 1 && static_cast<double>(topic_score[best[1]]) >= kTieRatio * top;
    if (tie) {
        result.verdict = MatchResult::Verdict::ambiguous;
        // Keep only the candidates close enough to be worth asking about.
        while (result.top.size() > 2 && result.top.back().score < kTieRatio * top) result.top.pop_back();
    } else {
        result.verdict = MatchResult::Verdict::answer;
    }
    return result;
}

}  // namespace pgibot::messages
