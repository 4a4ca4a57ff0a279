// BM25 retrieval over the content topics.
//
// Terms: syllable unigrams and bigrams, each in two forms: folded (no diacritics: what every citizen's
// text shares) and accented (normalised, exact marks). Accented terms only count when the question
// itself carries diacritics: a citizen who types marks means them ("mua" is then "buy", not "múa"),
// while an unaccented question can only be compared on the folded key.
//
// Three fields, blended into a topic's score, each normalised by what the question itself would score:
//   questions: one document per example question, keyword and title; the topic's best one counts;
//   bags:      one document per topic with all of those together (evidence spread over examples);
//   answers:   one document per topic with its answer text, weighted low (words examples miss).
// A topic must also cover enough of the question's vocabulary (idf mass of its syllables) to be
// answered: that is what turns away "giá vàng hôm nay".
//
// Everything that does not depend on the question is precomputed: each posting stores its full BM25
// contribution, so scoring a question is a few flat-table look-ups plus additions into per-thread buffers.
#include "messages/matcher.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "messages/normalize.hpp"

namespace pgibot::messages {

namespace {

// BM25 parameters. Documents are short (3-15 syllables), so length normalisation is damped.
constexpr double kK1 = 1.2;
constexpr double kB = 0.5;
constexpr double kBagB = 0.75;
// Blend of the three fields in a topic's score.
constexpr double kQuestionWeight = 1.0;
constexpr double kBagWeight = 1.0;
constexpr double kAnswerWeight = 0.3;
// Term weights by kind, relative to a folded unigram.
constexpr double kFoldedUnigram = 1.0;
constexpr double kAccentedUnigram = 0.6;
constexpr double kFoldedBigram = 0.8;
constexpr double kAccentedBigram = 0.5;
// Weight of a question syllable the catalogue has never seen, as a share of the rarest term's idf:
// unknown words ("vàng", "bóng đá") are evidence that the question is about something else.
constexpr double kUnknownShare = 0.7;

// Verdict thresholds, tuned on tests/messages/questions.tsv (see the accuracy test). Both gates must pass:
// the blended score alone lets generic words ("thế nào", "kết quả") carry off-topic questions, and
// coverage alone lets one rare shared word do it.
constexpr double kMinConfidence = 1.05;  // blended score (each field normalised by the question's own weight)
constexpr double kMinCoverage = 0.44;    // share of the question's syllable weight present in the best topic
constexpr double kTieRatio = 0.92;       // runner-up within this share of the best: ask which one

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

// The terms of one text, built the same way for documents and questions.
struct Doc {
    std::uint32_t topic = 0;
    std::vector<std::uint64_t> keys;  // term keys, with repeats (tf)
    double length = 0;                // syllables
};

// One BM25 collection: every posting carries its full contribution (idf, kind weight, saturated tf).
class Field {
public:
    void build(std::vector<Doc>& docs, double k1, double b) {
        std::unordered_map<std::uint64_t, std::uint32_t> terms;
        std::vector<std::uint32_t> df;
        double total_length = 0;
        for (auto& d : docs) {
            total_length += d.length;
            std::sort(d.keys.begin(), d.keys.end());
            for (std::size_t i = 0; i < d.keys.size(); ++i) {
                if (i > 0 && d.keys[i] == d.keys[i - 1]) continue;
                auto [it, fresh] = terms.try_emplace(d.keys[i], static_cast<std::uint32_t>(df.size()));
                if (fresh) df.push_back(0);
                ++df[it->second];
            }
        }
        const double n = static_cast<double>(docs.size());
        const double avg_length = docs.empty() ? 1.0 : std::max(1.0, total_length / n);
        auto idf = [&](double doc_freq) { return std::log(1.0 + (n - doc_freq + 0.5) / (doc_freq + 0.5)); };
        weight_.assign(df.size(), 0);
        for (const auto& [key, t] : terms) weight_[t] = idf(df[t]) * kind_weight(static_cast<Kind>(key >> 62));
        unknown_weight_ = idf(0);
        begin_.assign(df.size() + 1, 0);
        for (std::size_t t = 0; t < df.size(); ++t) begin_[t + 1] = begin_[t] + df[t];
        postings_.resize(begin_.back());
        std::vector<std::uint32_t> fill(begin_.begin(), begin_.end() - 1);
        for (std::size_t d = 0; d < docs.size(); ++d) {
            const auto& keys = docs[d].keys;
            const double norm = k1 * (1.0 - b + b * docs[d].length / avg_length);
            for (std::size_t i = 0; i < keys.size();) {
                std::size_t j = i;
                while (j < keys.size() && keys[j] == keys[i]) ++j;
                const double tf = static_cast<double>(j - i);
                const auto t = terms.at(keys[i]);
                postings_[fill[t]++] = Posting{static_cast<std::uint32_t>(d),
                                               static_cast<float>(weight_[t] * tf * (k1 + 1.0) / (tf + norm))};
                i = j;
            }
        }
        table_.build(terms);
    }

    // Adds the term's postings into `scores` and returns its weight (what a perfect match would add).
    double add(std::uint64_t key, std::vector<float>& scores) const {
        const auto term = table_.find(key);
        if (term < 0) return 0;
        const auto t = static_cast<std::size_t>(term);
        for (auto p = begin_[t]; p < begin_[t + 1]; ++p) scores[postings_[p].doc] += postings_[p].contribution;
        return weight_[t];
    }
    // Adds the term's weight (idf only, no tf) to every document holding it: how much of the
    // question's vocabulary a document covers, whatever its length.
    double add_presence(std::uint64_t key, std::vector<float>& scores) const {
        const auto term = table_.find(key);
        if (term < 0) return 0;
        const auto t = static_cast<std::size_t>(term);
        const auto w = static_cast<float>(weight_[t]);
        for (auto p = begin_[t]; p < begin_[t + 1]; ++p) scores[postings_[p].doc] += w;
        return weight_[t];
    }
    [[nodiscard]] double unknown_weight() const { return unknown_weight_; }

private:
    TermTable table_;
    std::vector<double> weight_;
    std::vector<std::uint32_t> begin_;  // CSR offsets into postings_, one per term plus the end
    std::vector<Posting> postings_;
    double unknown_weight_ = 0;
};

}  // namespace

struct Matcher::Index {
    Normalizer normalizer;  // a copy: the matcher must not outlive someone else's normaliser
    std::vector<const Topic*> topics;
    std::vector<std::uint32_t> topic_docs_begin;  // a topic's question documents: [begin[t], begin[t + 1])

    // Syllable strings (accented and folded share one id space) and, per id, the id of its folded form.
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> syllables;
    std::vector<std::uint32_t> folded_of;

    Field questions;  // one document per example question, keyword and title: best one counts
    Field bags;       // one document per topic: all its questions, keywords and titles together
    Field answers;    // one document per topic: its answer text, for words citizens use but examples miss

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

    void append_terms(std::string_view text, Doc& doc) {
        const auto syllables_of = normalizer.syllables(text);
        std::uint32_t previous = 0;
        for (std::size_t i = 0; i < syllables_of.size(); ++i) {
            const auto a = syllable_id(syllables_of[i]);
            const auto f = folded_of[a];
            doc.keys.push_back(term_key(Kind::folded_unigram, f));
            doc.keys.push_back(term_key(Kind::accented_unigram, a));
            if (i > 0) {
                doc.keys.push_back(term_key(Kind::folded_bigram, folded_of[previous], f));
                doc.keys.push_back(term_key(Kind::accented_bigram, previous, a));
            }
            previous = a;
        }
        doc.length += static_cast<double>(syllables_of.size());
    }
};

Matcher::Matcher(const Catalogue& catalogue, const Normalizer& normalizer) {
    auto index = std::make_shared<Index>();
    index->normalizer = normalizer;
    std::vector<Doc> questions;
    std::vector<Doc> bags;
    std::vector<Doc> answers;
    index->topic_docs_begin.push_back(0);
    for (const auto& topic : catalogue.topics) {
        const auto t = static_cast<std::uint32_t>(index->topics.size());
        index->topics.push_back(&topic);
        Doc bag{t, {}, 0};
        auto add = [&](std::string_view text) {
            Doc doc{t, {}, 0};
            index->append_terms(text, doc);
            if (doc.keys.empty()) return;
            index->append_terms(text, bag);
            questions.push_back(std::move(doc));
        };
        add(topic.title);
        add(topic.short_title);
        for (const auto& q : topic.questions) add(q);
        for (const auto& k : topic.keywords) add(k);
        bags.push_back(std::move(bag));
        Doc answer{t, {}, 0};
        for (const auto& bubble : topic.answer) index->append_terms(bubble, answer);
        answers.push_back(std::move(answer));
        index->topic_docs_begin.push_back(static_cast<std::uint32_t>(questions.size()));
    }
    index->questions.build(questions, kK1, kB);
    index->bags.build(bags, kK1, kBagB);
    index->answers.build(answers, kK1, kBagB);
    index_ = std::move(index);
}

MatchResult Matcher::match(std::string_view question) const {
    const Index& ix = *index_;
    MatchResult result;
    const auto syllables = ix.normalizer.syllables(question);
    if (syllables.empty() || ix.topics.empty()) return result;

    // Per-thread scratch, so concurrent workers never share it and the hot path does not allocate.
    thread_local std::vector<float> doc_score;
    thread_local std::vector<float> bag_score;
    thread_local std::vector<float> answer_score;
    thread_local std::vector<float> topic_score;
    thread_local std::vector<float> cover;
    thread_local std::vector<std::uint64_t> keys;
    thread_local std::vector<std::int64_t> accented;  // -1: syllable unknown to the catalogue
    thread_local std::vector<std::int64_t> folded;
    const auto n_docs = ix.topic_docs_begin.back();
    doc_score.assign(n_docs, 0.0F);
    bag_score.assign(ix.topics.size(), 0.0F);
    answer_score.assign(ix.topics.size(), 0.0F);
    topic_score.resize(ix.topics.size());
    cover.assign(ix.topics.size(), 0.0F);
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

    // Each field's self weight: what a document saying exactly the question would score (tf part ~1).
    // Unknown bigrams are normal paraphrase and do not count; unknown syllables do.
    double self_questions = 0, self_bags = 0, self_answers = 0, self_cover = 0;
    auto add_term = [&](std::uint64_t key) {
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) return;
        keys.push_back(key);
        self_questions += ix.questions.add(key, doc_score);
        self_bags += ix.bags.add(key, bag_score);
        self_answers += ix.answers.add(key, answer_score);
    };
    auto unknown = [&](double share) {
        self_questions += share * ix.questions.unknown_weight();
        self_bags += share * ix.bags.unknown_weight();
        self_answers += share * ix.answers.unknown_weight();
    };
    auto id = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
    const std::size_t n = syllables.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto f = folded[i];
        const auto a = accented[i];
        if (f >= 0) {
            const auto key = term_key(Kind::folded_unigram, id(f));
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                const double w = ix.bags.add_presence(key, cover);
                self_cover += w > 0 ? w : ix.bags.unknown_weight();
            }
            add_term(key);
        } else {
            unknown(kUnknownShare * kFoldedUnigram);
            self_cover += ix.bags.unknown_weight();
        }
        if (has_marks) {
            if (a >= 0) {
                add_term(term_key(Kind::accented_unigram, id(a)));
            } else {
                unknown(kUnknownShare * kAccentedUnigram);
            }
        }
        if (i + 1 < n) {
            const auto f2 = folded[i + 1];
            const auto a2 = accented[i + 1];
            if (f >= 0 && f2 >= 0) add_term(term_key(Kind::folded_bigram, id(f), id(f2)));
            if (has_marks && a >= 0 && a2 >= 0) add_term(term_key(Kind::accented_bigram, id(a), id(a2)));
        }
    }
    if (self_questions <= 0) return result;

    // A topic's confidence: its best question, its whole bag and its answer, each as a share of what the
    // question could score in that field, blended.
    const double wq = kQuestionWeight / self_questions;
    const double wb = self_bags > 0 ? kBagWeight / self_bags : 0.0;
    const double wa = self_answers > 0 ? kAnswerWeight / self_answers : 0.0;
    for (std::size_t t = 0; t < ix.topics.size(); ++t) {
        float best_doc = 0;
        for (auto d = ix.topic_docs_begin[t]; d < ix.topic_docs_begin[t + 1]; ++d) {
            best_doc = std::max(best_doc, doc_score[d]);
        }
        topic_score[t] = static_cast<float>(wq * static_cast<double>(best_doc) +
                                            wb * static_cast<double>(bag_score[t]) +
                                            wa * static_cast<double>(answer_score[t]));
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
    if (count == 0) return result;
    const double top = topic_score[best[0]];
    const double coverage = self_cover > 0 ? static_cast<double>(cover[best[0]]) / self_cover : 0.0;
    if (top < kMinConfidence || coverage < kMinCoverage) return result;

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
