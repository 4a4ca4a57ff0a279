// The BM25 matcher on a small hand-built catalogue: exact and unaccented questions, accents that
// decide between look-alike words, ties, and questions about something else entirely.
#include "messages/matcher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "messages/normalize.hpp"

namespace pgibot::messages {
namespace {

Topic topic(std::string id, std::string title, std::vector<std::string> questions,
            std::vector<std::string> keywords = {}) {
    Topic t;
    t.id = std::move(id);
    t.category = "test";
    t.title = std::move(title);
    t.short_title = t.title.substr(0, 10);
    t.questions = std::move(questions);
    t.keywords = std::move(keywords);
    t.answer = {"..."};
    return t;
}

Catalogue catalogue() {
    Catalogue c;
    c.topics.push_back(topic("waste.sorting", "Phân loại rác tại nguồn",
                             {"phân loại rác thế nào", "rác chia mấy loại", "cách phân loại rác sinh hoạt",
                              "rác hữu cơ bỏ vào đâu", "phan loai rac nhu the nao"},
                             {"phân loại rác", "rác tái chế"}));
    c.topics.push_back(topic("fines.burning", "Đốt rác bị phạt bao nhiêu?",
                             {"đốt rác bị phạt bao nhiêu", "đốt rác ngoài vườn có bị phạt không",
                              "mức phạt đốt rác", "dot rac bi phat khong", "đốt lá cây có vi phạm không"},
                             {"đốt rác", "phạt đốt rác"}));
    c.topics.push_back(topic("culture.dance", "Xem múa sư tử ở đâu?",
                             {"múa sư tử ở đâu", "xem múa ở đâu", "lịch múa lân", "đội múa của xã",
                              "học múa ở đâu"},
                             {"múa", "múa lân"}));
    c.topics.push_back(topic("culture.bags", "Mua túi vải ở đâu?",
                             {"mua túi vải ở đâu", "mua túi thân thiện môi trường", "chỗ mua túi sinh học",
                              "mua ở đâu", "cửa hàng bán túi giấy"},
                             {"túi vải", "túi sinh học"}));
    c.topics.push_back(topic("pgi.what", "PGI là gì?",
                             {"PGI là gì", "chỉ số xanh là gì", "chi so xanh cap tinh la gi", "pgi la gi vay ad",
                              "giải thích chỉ số PGI"},
                             {"pgi", "chỉ số xanh"}));
    return c;
}

class MatcherTest : public ::testing::Test {
protected:
    Catalogue catalogue_ = catalogue();
    Normalizer normalizer_{{{"ko", "không"}, {"k", "không"}, {"j", "gì"}}};
    Matcher matcher_{catalogue_, normalizer_};

    std::string top_id(std::string_view q) const {
        const auto r = matcher_.match(q);
        return r.top.empty() ? "" : r.top.front().topic->id;
    }
};

TEST_F(MatcherTest, AnswersExampleAndParaphrasedQuestions) {
    auto r = matcher_.match("Phân loại rác thế nào?");
    EXPECT_EQ(r.verdict, MatchResult::Verdict::answer);
    ASSERT_FALSE(r.top.empty());
    EXPECT_EQ(r.top.front().topic->id, "waste.sorting");
    EXPECT_LE(r.top.size(), 3U);
    EXPECT_EQ(top_id("đốt rác thì bị phạt bao nhiêu tiền"), "fines.burning");
    EXPECT_EQ(top_id("PGI LÀ GÌ VẬY"), "pgi.what");
}

TEST_F(MatcherTest, UnaccentedAndTeencodeQuestionsMatch) {
    EXPECT_EQ(top_id("dot rac ngoai vuon co bi phat ko"), "fines.burning");
    EXPECT_EQ(top_id("pgi la j"), "pgi.what");
    EXPECT_EQ(top_id("phan loai rac the nao"), "waste.sorting");
    EXPECT_EQ(matcher_.match("chi so xanh la gi").verdict, MatchResult::Verdict::answer);
}

TEST_F(MatcherTest, NfdQuestionMatchesLikeNfc) {
    const auto nfc = matcher_.match("mức phạt đốt rác");
    const auto nfd = matcher_.match("mu\u031B\u0301c pha\u0323t \u0111o\u0302\u0301t ra\u0301c");
    ASSERT_FALSE(nfc.top.empty());
    ASSERT_FALSE(nfd.top.empty());
    EXPECT_EQ(nfc.top.front().topic, nfd.top.front().topic);
    EXPECT_FLOAT_EQ(static_cast<float>(nfc.top.front().score), static_cast<float>(nfd.top.front().score));
}

TEST_F(MatcherTest, ExactAccentsDecideBetweenLookAlikes) {
    EXPECT_EQ(top_id("múa ở đâu"), "culture.dance");
    EXPECT_EQ(top_id("mua ở đâu"), "culture.bags");
    // Without any marks both readings are possible: both must be among the candidates.
    const auto r = matcher_.match("mua o dau");
    ASSERT_GE(r.top.size(), 2U);
    std::vector<std::string> ids;
    for (const auto& s : r.top) ids.push_back(s.topic->id);
    EXPECT_NE(std::find(ids.begin(), ids.end(), "culture.dance"), ids.end());
    EXPECT_NE(std::find(ids.begin(), ids.end(), "culture.bags"), ids.end());
}

TEST_F(MatcherTest, NearTieIsAmbiguous) {
    // "rác" alone is shared by sorting and burning.
    const auto r = matcher_.match("rác");
    EXPECT_EQ(r.verdict, MatchResult::Verdict::ambiguous);
    ASSERT_GE(r.top.size(), 2U);
    EXPECT_LE(r.top.size(), 3U);
    EXPECT_GE(r.top[0].score, r.top[1].score);
}

TEST_F(MatcherTest, OutOfScopeGetsNone) {
    for (const char* q : {"giá vàng hôm nay", "tỷ số bóng đá", "thời tiết ngày mai thế nào", "", "😀😀", "???",
                          "asdkjh qwe zxc"}) {
        const auto r = matcher_.match(q);
        EXPECT_EQ(r.verdict, MatchResult::Verdict::none) << q;
        EXPECT_TRUE(r.top.empty()) << q;
    }
}

TEST_F(MatcherTest, OutlivesItsNormalizer) {
    std::unique_ptr<Matcher> m;
    {
        const Normalizer temporary(std::map<std::string, std::string, std::less<>>{{"ko", "không"}});
        m = std::make_unique<Matcher>(catalogue_, temporary);
    }
    const auto r = m->match("đốt rác có bị phạt ko");
    ASSERT_FALSE(r.top.empty());
    EXPECT_EQ(r.top.front().topic->id, "fines.burning");
}

TEST(Matcher, EmptyCatalogueMatchesNothing) {
    const Catalogue empty;
    const Normalizer n;
    const Matcher m(empty, n);
    EXPECT_EQ(m.match("phân loại rác").verdict, MatchResult::Verdict::none);
}

}  // namespace
}  // namespace pgibot::messages
