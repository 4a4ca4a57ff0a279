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
#include <vector>

#include "messages/normalize.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

constexpr std::size_t kFields = 3;  // questions, bags, answers
enum FieldId : std::size_t { kQuestions = 0, kBags = 1, kAnswers = 2 };

struct Posting {
    std::uint32_t doc = 0;
    float contribution = 0;  // idf * kind weight * saturated tf, all known at build time
};

std::size_t mix(std::uint64_t k) {
    k ^= k >> 33;  // murmur3 finaliser: spreads the packed ids over the low bits
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
}

// Open-addressing table from term key to a dense index (0, 1, 2, ... in insertion order): question
// scoring does one look-up per distinct term, and a flat array with linear probing keeps each within a
// cache line or two (std::unordered_map chases nodes).
class TermTable {
public:
    // The key's index, inserting it with the next free index when new.
    std::uint32_t insert(std::uint64_t key) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        std::size_t slot = mix(key) & mask_;
        while (slots_[slot].key != kEmpty) {
            if (slots_[slot].key == key) return slots_[slot].value;
            slot = (slot + 1) & mask_;
        }
        slots_[slot] = Slot{key, static_cast<std::uint32_t>(size_)};
        return static_cast<std::uint32_t>(size_++);
    }
    // The key's index, or -1 when the catalogue never uses this term.
    [[nodiscard]] std::int64_t find(std::uint64_t key) const {
        if (slots_.empty()) return -1;
        for (std::size_t slot = mix(key) & mask_;; slot = (slot + 1) & mask_) {
            if (slots_[slot].key == key) return slots_[slot].value;
            if (slots_[slot].key == kEmpty) return -1;
        }
    }
    [[nodiscard]] std::size_t size() const { return size_; }

private:
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  // no key has all bits set: ids are < 2^31 - 1
    struct Slot {
        std::uint64_t key = kEmpty;
        std::uint32_t value = 0;
    };  // key and value side by side: one cache miss per probe
    void grow() {
        const std::size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
        std::vector<Slot> slots(capacity);
        const std::size_t mask = capacity - 1;
        for (const auto& old : slots_) {
            if (old.key == kEmpty) continue;
            std::size_t slot = mix(old.key) & mask;
            while (slots[slot].key != kEmpty) slot = (slot + 1) & mask;
            slots[slot] = old;
        }
        slots_ = std::move(slots);
        mask_ = mask;
    }
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

// Syllable strings to dense ids: one flat probe (FNV-1a hash, then one string compare) per syllable.
class SyllableTable {
public:
    // The id of `s`, or -1.
    [[nodiscard]] std::int64_t find(std::string_view s) const {
        if (slots_.empty()) return -1;
        const auto h = hash(s);
        for (std::size_t slot = h & mask_;; slot = (slot + 1) & mask_) {
            const auto id = slots_[slot];
            if (id == kEmpty) return -1;
            if (hashes_[id] == h && strings_[id] == s) return id;
        }
    }
    // The id of `s`, with `fresh` telling whether it was just added.
    std::uint32_t insert(std::string_view s, bool& fresh) {
        const auto h = hash(s);
        if (!slots_.empty()) {
            for (std::size_t slot = h & mask_;; slot = (slot + 1) & mask_) {
                const auto id = slots_[slot];
                if (id == kEmpty) break;
                if (hashes_[id] == h && strings_[id] == s) {
                    fresh = false;
                    return id;
                }
            }
        }
        fresh = true;
        const auto id = static_cast<std::uint32_t>(strings_.size());
        strings_.emplace_back(s);
        hashes_.push_back(h);
        if (strings_.size() * 2 > slots_.size()) {
            rehash(slots_.empty() ? 256 : slots_.size() * 2);
        } else {
            place(id);
        }
        return id;
    }

private:
    static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};
    static std::uint64_t hash(std::string_view s) {
        std::uint64_t h = 0xcbf29ce484222325ULL;
        for (const char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 0x100000001b3ULL;
        }
        return h ^ (h >> 29);
    }
    void place(std::uint32_t id) {
        std::size_t slot = hashes_[id] & mask_;
        while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
        slots_[slot] = id;
    }
    void rehash(std::size_t capacity) {
        slots_.assign(capacity, kEmpty);
        mask_ = capacity - 1;
        for (std::uint32_t id = 0; id < strings_.size(); ++id) place(id);
    }
    std::vector<std::string> strings_;
    std::vector<std::uint64_t> hashes_;
    std::vector<std::uint32_t> slots_;
    std::size_t mask_ = 0;
};

// The terms of one text, built the same way for documents and questions.
struct Doc {
    std::vector<std::uint64_t> keys;  // term keys, with repeats (tf)
    double length = 0;                // syllables
};

// One BM25 collection over the shared term space: every posting carries its full contribution
// (idf, kind weight, saturated tf), so scoring is a flat scan of each query term's postings.
struct Field {
    std::vector<double> weight;          // per term: idf * kind weight, 0 when the field lacks the term
    std::vector<std::uint32_t> begin;    // CSR offsets into postings, one per term plus the end
    std::vector<Posting> postings;
    double unknown_weight = 0;

    // `docs` keys must be sorted; `terms` holds every key of every field, `kind_weights` their kinds' weights.
    void build(const std::vector<Doc>& docs, const TermTable& terms, const std::vector<double>& kind_weights,
               double k1, double b) {
        const std::size_t n_terms = terms.size();
        std::vector<std::uint32_t> df(n_terms, 0);
        // Each document's distinct terms and their tf, resolved once.
        std::vector<std::uint32_t> doc_terms;
        std::vector<std::uint32_t> doc_tf;
        std::vector<std::uint32_t> doc_begin{0};
        double total_length = 0;
        for (const auto& d : docs) {
            total_length += d.length;
            const auto& keys = d.keys;
            for (std::size_t i = 0; i < keys.size();) {
                std::size_t j = i;
                while (j < keys.size() && keys[j] == keys[i]) ++j;
                const auto t = static_cast<std::uint32_t>(terms.find(keys[i]));
                doc_terms.push_back(t);
                doc_tf.push_back(static_cast<std::uint32_t>(j - i));
                ++df[t];
                i = j;
            }
            doc_begin.push_back(static_cast<std::uint32_t>(doc_terms.size()));
        }
        const double n = static_cast<double>(docs.size());
        const double avg_length = docs.empty() ? 1.0 : std::max(1.0, total_length / n);
        auto idf = [&](double doc_freq) { return std::log(1.0 + (n - doc_freq + 0.5) / (doc_freq + 0.5)); };
        unknown_weight = idf(0);
        weight.assign(n_terms, 0.0);
        for (std::size_t t = 0; t < n_terms; ++t) {
            if (df[t] > 0) weight[t] = idf(df[t]) * kind_weights[t];
        }
        begin.assign(n_terms + 1, 0);
        for (std::size_t t = 0; t < n_terms; ++t) begin[t + 1] = begin[t] + df[t];
        postings.resize(begin.back());
        std::vector<std::uint32_t> fill(begin.begin(), begin.end() - 1);
        for (std::size_t d = 0; d < docs.size(); ++d) {
            const double norm = k1 * (1.0 - b + b * docs[d].length / avg_length);
            for (auto i = doc_begin[d]; i < doc_begin[d + 1]; ++i) {
                const auto t = doc_terms[i];
                const double tf = static_cast<double>(doc_tf[i]);
                postings[fill[t]++] = Posting{static_cast<std::uint32_t>(d),
                                              static_cast<float>(weight[t] * tf * (k1 + 1.0) / (tf + norm))};
            }
        }
    }
    // Adds postings [first, last) into `scores`. A term's postings name distinct documents, so four at
    // a time can be loaded before any is stored (the compiler cannot know they never alias).
    void add(std::uint32_t first, std::uint32_t last, float* scores) const {
        const Posting* p = postings.data() + first;
        const Posting* const end = postings.data() + last;
        for (; end - p >= 4; p += 4) {
            const float s0 = scores[p[0].doc] + p[0].contribution;
            const float s1 = scores[p[1].doc] + p[1].contribution;
            const float s2 = scores[p[2].doc] + p[2].contribution;
            const float s3 = scores[p[3].doc] + p[3].contribution;
            scores[p[0].doc] = s0;
            scores[p[1].doc] = s1;
            scores[p[2].doc] = s2;
            scores[p[3].doc] = s3;
        }
        for (; p != end; ++p) scores[p->doc] += p->contribution;
    }
    // Adds `w` to every document of postings [first, last): with the term's weight (idf only, no tf),
    // how much of the question's vocabulary a document covers, whatever its length.
    void add_presence(std::uint32_t first, std::uint32_t last, float w, float* scores) const {
        const Posting* p = postings.data() + first;
        const Posting* const end = postings.data() + last;
        for (; p != end; ++p) scores[p->doc] += w;
    }
};

// What question scoring needs of one term, in one place (one cache line) rather than spread over
// per-field arrays: its weight and postings range in each field (empty range: not in that field).
struct TermInfo {
    std::array<double, kFields> weight{};
    std::array<std::uint32_t, kFields> begin{};
    std::array<std::uint32_t, kFields> end{};
};

// The largest of [first, last), 0 when empty. Scores are never negative nor NaN, so the order the
// maxima are taken in does not change the result, and SSE can take four at a time.
float max_of(const float* first, const float* last) {
    float best = 0;
#if defined(__SSE2__)
    __m128 lanes = _mm_setzero_ps();
    for (; last - first >= 4; first += 4) lanes = _mm_max_ps(lanes, _mm_loadu_ps(first));
    alignas(16) std::array<float, 4> lane{};
    _mm_store_ps(lane.data(), lanes);
    for (const float v : lane) best = std::max(best, v);
#endif
    for (; first != last; ++first) best = std::max(best, *first);
    return best;
}

void prefetch(const void* p) {
#if defined(__GNUC__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

// One step of scoring a question, recorded first so the memory it needs can be prefetched.
struct Op {
    enum Type : std::uint8_t {
        postings,      // add the term's postings to the three fields
        covered,       // the same, and count it in coverage (a folded unigram: one syllable)
        unknown,       // a syllable the catalogue never saw: `share` of each field's unknown weight
        uncovered,     // a syllable no topic's bag holds, for coverage
    };
    Type type = postings;
    std::uint32_t term = 0;
    double share = 0;
};

// Per-thread scratch for match(): concurrent workers never share it, and once warm the hot path does
// not allocate.
struct Scratch {
    std::vector<float> doc_score;
    std::vector<float> bag_score;
    std::vector<float> answer_score;
    std::vector<float> cover;
    std::vector<float> topic_score;
    std::vector<std::uint32_t> used;     // terms the question already added (a few dozen: a scan is cheapest)
    std::vector<std::int64_t> accented;  // -1: syllable unknown to the catalogue
    std::vector<std::int64_t> folded;
    std::vector<Op> ops;

    // Starts a question: scores zeroed, no term used.
    void start(std::size_t docs, std::size_t topics) {
        doc_score.assign(docs, 0.0F);
        bag_score.assign(topics, 0.0F);
        answer_score.assign(topics, 0.0F);
        cover.assign(topics, 0.0F);
        topic_score.resize(topics);
        used.clear();
        ops.clear();
        accented.clear();
        folded.clear();
    }
    // True the first time a question uses term `t`.
    bool first_use(std::uint32_t t) {
        if (std::find(used.begin(), used.end(), t) != used.end()) return false;
        used.push_back(t);
        return true;
    }
};

}  // namespace

struct Matcher::Index {
    Normalizer normalizer;  // a copy: the matcher must not outlive someone else's normaliser
    std::vector<const Topic*> topics;
    std::vector<std::uint32_t> topic_docs_begin;  // a topic's question documents: [begin[t], begin[t + 1])

    // Syllable strings (accented and folded share one id space) and, per id, the id of its folded form.
    SyllableTable syllables;
    std::vector<std::uint32_t> folded_of;

    // Every term of every field, one dense index space shared by the three fields.
    TermTable terms;
    std::vector<TermInfo> info;  // per term
    // The unigram terms of each syllable id, by kind (folded, accented): no hashing for them.
    static constexpr std::uint32_t kNoTerm = ~std::uint32_t{0};
    std::array<std::vector<std::uint32_t>, 2> unigram_terms;
    std::array<Field, kFields> fields;  // questions, bags, answers:
    // questions: one document per example question, keyword and title: best one counts
    // bags:      one document per topic: all its questions, keywords and titles together
    // answers:   one document per topic: its answer text, for words citizens use but examples miss

    [[nodiscard]] std::int64_t find_term(std::uint64_t key) const {
        const auto kind = static_cast<Kind>(key >> 62);
        if (kind == Kind::folded_unigram || kind == Kind::accented_unigram) {
            const auto& table = unigram_terms[static_cast<std::size_t>(kind)];
            const auto id = static_cast<std::size_t>(key >> 31) & 0x7FFFFFFFU;
            if (id >= table.size() || table[id] == kNoTerm) return -1;
            return table[id];
        }
        return terms.find(key);
    }

    std::uint32_t syllable_id(std::string_view s) {
        bool fresh = false;
        const auto id = syllables.insert(s, fresh);
        if (fresh) {
            folded_of.push_back(id);
            if (!is_ascii(s)) {
                const auto folded = syllable_id(fold_diacritics(s));
                folded_of[id] = folded;
            }
        }
        return id;
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
    std::array<std::vector<Doc>, kFields> docs;
    auto& questions = docs[kQuestions];
    auto& bags = docs[kBags];
    auto& answers = docs[kAnswers];
    index->topic_docs_begin.push_back(0);
    for (const auto& topic : catalogue.topics) {
        index->topics.push_back(&topic);
        Doc bag;
        auto add = [&](std::string_view text) {
            Doc doc;
            index->append_terms(text, doc);
            if (doc.keys.empty()) return;
            // The bag holds the same terms: copied, not normalised a second time.
            bag.keys.insert(bag.keys.end(), doc.keys.begin(), doc.keys.end());
            bag.length += doc.length;
            questions.push_back(std::move(doc));
        };
        add(topic.title);
        add(topic.short_title);
        for (const auto& q : topic.questions) add(q);
        for (const auto& k : topic.keywords) add(k);
        bags.push_back(std::move(bag));
        Doc answer;
        for (const auto& bubble : topic.answer) index->append_terms(bubble, answer);
        answers.push_back(std::move(answer));
        index->topic_docs_begin.push_back(static_cast<std::uint32_t>(questions.size()));
    }
    // One term space for the three fields, so a question term is looked up once.
    std::vector<double> kind_weights;
    for (auto& field_docs : docs) {
        for (auto& d : field_docs) {
            std::sort(d.keys.begin(), d.keys.end());
            for (std::size_t i = 0; i < d.keys.size(); ++i) {
                if (i > 0 && d.keys[i] == d.keys[i - 1]) continue;
                if (index->terms.insert(d.keys[i]) == kind_weights.size()) {
                    kind_weights.push_back(kind_weight(static_cast<Kind>(d.keys[i] >> 62)));
                }
            }
        }
    }
    const std::array<double, kFields> b{kB, kBagB, kBagB};
    index->info.resize(index->terms.size());
    for (std::size_t f = 0; f < kFields; ++f) {
        Field& field = index->fields[f];
        field.build(docs[f], index->terms, kind_weights, kK1, b[f]);
        for (std::size_t t = 0; t < index->info.size(); ++t) {
            index->info[t].weight[f] = field.weight[t];
            index->info[t].begin[f] = field.begin[t];
            index->info[t].end[f] = field.begin[t + 1];
        }
        field.weight = {};  // moved into info
        field.begin = {};
    }
    for (const auto kind : {Kind::folded_unigram, Kind::accented_unigram}) {
        auto& table = index->unigram_terms[static_cast<std::size_t>(kind)];
        table.assign(index->folded_of.size(), Index::kNoTerm);
        for (std::uint32_t id = 0; id < table.size(); ++id) {
            const auto t = index->terms.find(term_key(kind, id));
            if (t >= 0) table[id] = static_cast<std::uint32_t>(t);
        }
    }
    index_ = std::move(index);
}

MatchResult Matcher::match(std::string_view question) const {
    const Index& ix = *index_;
    MatchResult result;
    const auto syllables = ix.normalizer.syllables(question);
    if (syllables.empty() || ix.topics.empty()) return result;

    thread_local Scratch scratch;
    Scratch& sc = scratch;
    const std::size_t n_topics = ix.topics.size();
    sc.start(ix.topic_docs_begin.back(), n_topics);
    float* const doc_score = sc.doc_score.data();
    float* const bag_score = sc.bag_score.data();
    float* const answer_score = sc.answer_score.data();
    float* const cover = sc.cover.data();
    const Field& fq = ix.fields[kQuestions];
    const Field& fb = ix.fields[kBags];
    const Field& fa = ix.fields[kAnswers];

    bool has_marks = false;
    for (const auto& s : syllables) {
        const auto id = ix.syllables.find(s);
        if (id >= 0) {
            const auto f = ix.folded_of[static_cast<std::size_t>(id)];
            sc.accented.push_back(id);
            sc.folded.push_back(f);
            if (f != id) has_marks = true;
            continue;
        }
        sc.accented.push_back(-1);
        if (is_ascii(s)) {
            sc.folded.push_back(-1);
            continue;
        }
        has_marks = true;
        sc.folded.push_back(ix.syllables.find(fold_diacritics(s)));
    }

    // First the question's terms, in order, each once (looking them up is cache misses that overlap);
    // then their entries and postings are prefetched, and only then scored.
    auto& ops = sc.ops;
    auto add_term = [&](std::uint64_t key) {
        const auto term = ix.find_term(key);
        if (term < 0) return;  // a bigram the catalogue never saw adds nothing
        const auto t = static_cast<std::uint32_t>(term);
        if (sc.first_use(t)) ops.push_back(Op{Op::postings, t, 0.0});
    };
    auto id = [](std::int64_t v) { return static_cast<std::uint32_t>(v); };
    const std::size_t n = syllables.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto f = sc.folded[i];
        const auto a = sc.accented[i];
        if (f >= 0) {
            const auto term = ix.find_term(term_key(Kind::folded_unigram, id(f)));
            if (term < 0) {
                ops.push_back(Op{Op::uncovered, 0, 0.0});  // not reached: every known syllable has its unigram
            } else if (sc.first_use(static_cast<std::uint32_t>(term))) {
                ops.push_back(Op{Op::covered, static_cast<std::uint32_t>(term), 0.0});
            }
        } else {
            ops.push_back(Op{Op::unknown, 0, kUnknownShare * kFoldedUnigram});
            ops.push_back(Op{Op::uncovered, 0, 0.0});
        }
        if (has_marks) {
            if (a >= 0) {
                add_term(term_key(Kind::accented_unigram, id(a)));
            } else {
                ops.push_back(Op{Op::unknown, 0, kUnknownShare * kAccentedUnigram});
            }
        }
        if (i + 1 < n) {
            const auto f2 = sc.folded[i + 1];
            const auto a2 = sc.accented[i + 1];
            if (f >= 0 && f2 >= 0) add_term(term_key(Kind::folded_bigram, id(f), id(f2)));
            if (has_marks && a >= 0 && a2 >= 0) add_term(term_key(Kind::accented_bigram, id(a), id(a2)));
        }
    }
    for (const auto& op : ops) {
        if (op.type == Op::postings || op.type == Op::covered) prefetch(&ix.info[op.term]);
    }
    for (const auto& op : ops) {
        if (op.type != Op::postings && op.type != Op::covered) continue;
        const TermInfo& in = ix.info[op.term];
        for (std::size_t f = 0; f < kFields; ++f) prefetch(ix.fields[f].postings.data() + in.begin[f]);
    }

    // Each field's self weight: what a document saying exactly the question would score (tf part ~1).
    // Unknown bigrams are normal paraphrase and do not count; unknown syllables do.
    double self_questions = 0, self_bags = 0, self_answers = 0, self_cover = 0;
    for (const auto& op : ops) {
        switch (op.type) {
            case Op::unknown:
                self_questions += op.share * fq.unknown_weight;
                self_bags += op.share * fb.unknown_weight;
                self_answers += op.share * fa.unknown_weight;
                continue;
            case Op::uncovered:
                self_cover += fb.unknown_weight;
                continue;
            case Op::covered:
            case Op::postings: break;
        }
        const TermInfo& in = ix.info[op.term];
        if (op.type == Op::covered) {
            // Coverage: the share of the question's syllable weight each topic's bag holds.
            if (in.end[kBags] > in.begin[kBags]) {
                fb.add_presence(in.begin[kBags], in.end[kBags], static_cast<float>(in.weight[kBags]), cover);
                self_cover += in.weight[kBags];
            } else {
                self_cover += fb.unknown_weight;
            }
        }
        self_questions += in.weight[kQuestions];
        fq.add(in.begin[kQuestions], in.end[kQuestions], doc_score);
        self_bags += in.weight[kBags];
        fb.add(in.begin[kBags], in.end[kBags], bag_score);
        self_answers += in.weight[kAnswers];
        fa.add(in.begin[kAnswers], in.end[kAnswers], answer_score);
    }
    if (self_questions <= 0) return result;

    // A topic's confidence: its best question, its whole bag and its answer, each as a share of what the
    // question could score in that field, blended.
    const double wq = kQuestionWeight / self_questions;
    const double wb = self_bags > 0 ? kBagWeight / self_bags : 0.0;
    const double wa = self_answers > 0 ? kAnswerWeight / self_answers : 0.0;
    float* const topic_score = sc.topic_score.data();
    for (std::size_t t = 0; t < n_topics; ++t) {
        const float best_doc = max_of(doc_score + ix.topic_docs_begin[t], doc_score + ix.topic_docs_begin[t + 1]);
        topic_score[t] = static_cast<float>(wq * static_cast<double>(best_doc) +
                                            wb * static_cast<double>(bag_score[t]) +
                                            wa * static_cast<double>(answer_score[t]));
    }
    std::array<std::uint32_t, 3> best{};
    std::size_t count = 0;
    for (std::uint32_t t = 0; t < n_topics; ++t) {
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
