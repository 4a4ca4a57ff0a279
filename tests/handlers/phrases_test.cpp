// What short messages mean to the conversation dialogs, with and without diacritics.
#include <gtest/gtest.h>

#include <memory>

#include "handlers/conversation/conversation.hpp"
#include "messages/normalize.hpp"

namespace pgibot::handlers::conversation {
namespace {

class Phrases : public ::testing::Test {
protected:
    Phrases() { content_.normalizer = std::make_shared<messages::Normalizer>(); }
    Phrase of(std::string_view text, bool expect_answer = false) const {
        return classify_phrase(text, content_, expect_answer);
    }
    messages::Content content_;
};

TEST_F(Phrases, Subscription) {
    for (const char* t : {"ĐĂNG KÝ", "đăng ký", "Đăng kí", "dang ky", "DANG KY", "đăng ký nhận tin", "dang ki",
                          "Em muốn đăng ký ạ", "subscribe"}) {
        EXPECT_EQ(of(t), Phrase::subscribe) << t;
    }
    for (const char* t : {"DỪNG", "dừng", "dung", "DUNG", "hủy đăng ký", "huỷ đăng ký", "huy dang ky", "Hủy",
                          "stop", "dừng lại ạ", "dừng nhận tin"}) {
        EXPECT_EQ(of(t), Phrase::unsubscribe) << t;
    }
    // Same letters, other words: "đúng" (right), "dùng" (use), "hùy"... typed with their marks.
    for (const char* t : {"đúng", "dùng", "dụng", "đùng", "húy"}) {
        EXPECT_NE(of(t), Phrase::unsubscribe) << t;
    }
    // A question that mentions registration is not a command.
    EXPECT_EQ(of("đăng ký kinh doanh phế liệu cần giấy phép môi trường không"), Phrase::none);
}

TEST_F(Phrases, MenuGreetingSmallTalk) {
    for (const char* t : {"menu", "MENU", "bắt đầu", "bat dau", "trợ giúp", "tro giup", "help"}) {
        EXPECT_EQ(of(t), Phrase::menu) << t;
    }
    for (const char* t : {"xin chào", "Xin chao", "hi", "Hello!", "alo", "alo alo", "chào ad", "chào bạn ạ"}) {
        EXPECT_EQ(of(t), Phrase::greeting) << t;
    }
    for (const char* t : {"cảm ơn", "cam on", "Cảm ơn bạn nhiều!", "thanks", "tks", "thank you"}) {
        EXPECT_EQ(of(t), Phrase::thanks) << t;
    }
    for (const char* t : {"ok", "oke", "vâng", "ừ", "được rồi"}) {
        EXPECT_EQ(of(t), Phrase::ok) << t;
    }
    for (const char* t : {"bye", "tạm biệt", "tam biet"}) {
        EXPECT_EQ(of(t), Phrase::bye) << t;
    }
    // A greeting followed by a question is a question.
    EXPECT_EQ(of("xin chào, cho hỏi PGI là gì"), Phrase::none);
    EXPECT_EQ(of(""), Phrase::none);
    EXPECT_EQ(of("   !!! "), Phrase::none);
}

TEST_F(Phrases, Human) {
    for (const char* t : {"gặp cán bộ", "gap can bo", "Cho tôi gặp cán bộ với", "tôi muốn nói chuyện với người",
                          "noi chuyen voi nguoi that", "cho mình gặp nhân viên"}) {
        EXPECT_EQ(of(t), Phrase::human) << t;
    }
    EXPECT_EQ(of("cán bộ môi trường xã làm gì"), Phrase::none);
}

TEST_F(Phrases, YesNoOnlyWhenAsked) {
    EXPECT_EQ(of("có", true), Phrase::yes);
    EXPECT_EQ(of("co", true), Phrase::yes);
    EXPECT_EQ(of("Có ạ", true), Phrase::yes);
    EXPECT_EQ(of("ok", true), Phrase::yes);
    EXPECT_EQ(of("đồng ý", true), Phrase::yes);
    EXPECT_EQ(of("không", true), Phrase::no);
    EXPECT_EQ(of("khong can", true), Phrase::no);
    EXPECT_EQ(of("thôi", true), Phrase::no);
    EXPECT_EQ(of("ok"), Phrase::ok);
    EXPECT_EQ(of("có"), Phrase::none);
    EXPECT_EQ(of("cô", true), Phrase::none);  // "co" folded, but with other marks
}

TEST(Fill, ReplacesEveryPlaceholder) {
    EXPECT_EQ(fill("Về {category}: {category}!", {{"category", "PGI"}}), "Về PGI: PGI!");
    EXPECT_EQ(fill("{a}{b}", {{"a", "{b}"}, {"b", "x"}}), "xx");
    EXPECT_EQ(fill("none", {{"a", "b"}}), "none");
    EXPECT_EQ(fill("{a}", {{"a", "{a}"}}), "{a}");  // no endless loop
}

}  // namespace
}  // namespace pgibot::handlers::conversation
