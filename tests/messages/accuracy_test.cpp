// Accuracy of the matcher over the labelled question set and the real content (messages/content).
// Each line of tests/messages/questions.tsv is `question<TAB>expected topic id`, `-` meaning out of
// scope. Until that file exists the format-compatible sample_questions.tsv is used.
//
// Floors: top-1 accuracy >= 85% and out-of-scope rejection >= 85%. They sit a few points under what
// the tuned matcher reaches (target >= 90% each) so a content edit does not fail the build, while a
// real regression in normalisation or scoring does.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "messages/content.hpp"
#include "messages/matcher.hpp"

namespace pgibot::messages {
namespace {

namespace fs = std::filesystem;

constexpr double kTop1Floor = 0.85;
constexpr double kRejectionFloor = 0.85;

struct Labelled {
    std::string question;
    std::string expected;
    int line = 0;
};

fs::path question_file() {
    const fs::path dir = fs::path(PGIBOT_SOURCE_DIR) / "tests" / "messages";
    return fs::exists(dir / "questions.tsv") ? dir / "questions.tsv" : dir / "sample_questions.tsv";
}

std::vector<Labelled> read_questions(const fs::path& path) {
    std::vector<Labelled> out;
    std::ifstream in(path);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        const auto tab = line.rfind('\t');
        if (tab == std::string::npos) {
            ADD_FAILURE() << path << ":" << number << ": no tab in '" << line << "'";
            continue;
        }
        out.push_back({line.substr(0, tab), line.substr(tab + 1), number});
    }
    return out;
}

const char* verdict_name(MatchResult::Verdict v) {
    switch (v) {
        case MatchResult::Verdict::answer: return "answer";
        case MatchResult::Verdict::ambiguous: return "ambiguous";
        case MatchResult::Verdict::none: return "none";
    }
    return "?";
}

TEST(Accuracy, LabelledQuestionsOverRealContent) {
    const auto loaded = load_content(fs::path(PGIBOT_SOURCE_DIR) / "messages" / "content");
    for (const auto& p : loaded.problems) {
        std::printf("content problem: %s:%d: %s\n", p.file.c_str(), p.line, p.message.c_str());
    }
    ASSERT_NE(loaded.content, nullptr) << loaded.problems.size() << " content problems";
    const Catalogue& catalogue = *loaded.content->catalogue;
    const Matcher& matcher = *loaded.content->matcher;

    const fs::path path = question_file();
    const auto questions = read_questions(path);
    ASSERT_FALSE(questions.empty()) << path;

    int in_scope = 0, top1 = 0, answered_right = 0, answered_wrong = 0;
    int out_of_scope = 0, rejected = 0;
    for (const auto& q : questions) {
        const auto r = matcher.match(q.question);
        const std::string got = r.top.empty() ? "-" : r.top.front().topic->id;
        if (q.expected == "-") {
            ++out_of_scope;
            if (r.verdict == MatchResult::Verdict::none) {
                ++rejected;
            } else {
                std::printf("  [not rejected] %s:%d %s -> %s (%s)\n", path.filename().c_str(), q.line,
                            q.question.c_str(), got.c_str(), verdict_name(r.verdict));
            }
            continue;
        }
        EXPECT_NE(catalogue.find_topic(q.expected), nullptr)
            << path << ":" << q.line << ": unknown topic '" << q.expected << "'";
        ++in_scope;
        // Top-1: the expected topic is the best candidate and the matcher did not give up.
        const bool right = r.verdict != MatchResult::Verdict::none && got == q.expected;
        top1 += right ? 1 : 0;
        if (r.verdict == MatchResult::Verdict::answer) (right ? answered_right : answered_wrong) += 1;
        if (!right) {
            std::printf("  [miss] %s:%d %s -> %s (%s), expected %s\n", path.filename().c_str(), q.line,
                        q.question.c_str(), got.c_str(), verdict_name(r.verdict), q.expected.c_str());
        }
    }
    const double top1_rate = in_scope > 0 ? static_cast<double>(top1) / in_scope : 1.0;
    const double rejection_rate = out_of_scope > 0 ? static_cast<double>(rejected) / out_of_scope : 1.0;
    std::printf("questions: %s (%d in scope, %d out of scope)\n", path.c_str(), in_scope, out_of_scope);
    std::printf("top-1 accuracy: %.1f%% (%d/%d); answered directly: %d right, %d wrong\n", 100.0 * top1_rate, top1,
                in_scope, answered_right, answered_wrong);
    std::printf("out-of-scope rejection: %.1f%% (%d/%d)\n", 100.0 * rejection_rate, rejected, out_of_scope);
    EXPECT_GE(top1_rate, kTop1Floor);
    EXPECT_GE(rejection_rate, kRejectionFloor);
}

}  // namespace
}  // namespace pgibot::messages
