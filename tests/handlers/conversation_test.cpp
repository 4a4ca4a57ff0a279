// Golden conversations through the real handle() with the real content (messages/content).
// Assertions are on payloads, topic ids, effects and state; texts are compared with the catalogue's
// templates, never with literal Vietnamese, so content edits do not break these tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "handlers/conversation/conversation.hpp"
#include "handlers/handler.hpp"
#include "handlers/tipoff/intake.hpp"
#include "messages/content.hpp"
#include "messages/keys/conversation.hpp"
#include "messages/matcher.hpp"

namespace pgibot::handlers {
namespace {

constexpr const char* kPage = "page-1";
constexpr const char* kUser = "user-1";
constexpr std::int64_t kStart = 1'764'400'000'000;  // 2025-11-29

std::vector<std::string> payloads(const OutMessage& m) {
    std::vector<std::string> out;
    for (const auto& q : m.quick_replies) {
        out.push_back(q.payload);
    }
    return out;
}

bool has_unmatched(const Decision& d, std::string_view text) {
    return std::any_of(d.effects.begin(), d.effects.end(), [text](const Effect& e) {
        const auto* u = std::get_if<RecordUnmatched>(&e);
        return u != nullptr && u->text == text;
    });
}

class Conversation : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto loaded = messages::load_content(PGIBOT_CONTENT_DIR);
        for (const auto& p : loaded.problems) {
            ADD_FAILURE() << p.file << ":" << p.line << ": " << p.message;
        }
        content_ = loaded.content;
    }
    static void TearDownTestSuite() { content_.reset(); }

    void SetUp() override { ASSERT_NE(content_, nullptr) << "messages/content did not load"; }

    const messages::Catalogue& cat() const { return *content_->catalogue; }

    std::vector<std::string> main_menu_payloads() const {
        std::vector<std::string> out;
        for (const auto& item : cat().main_menu) {
            out.push_back(item.payload);
        }
        return out;
    }

    Event base(EventKind kind) const {
        Event e;
        e.platform = platform_;
        e.kind = kind;
        e.page_id = kPage;
        e.user_id = kUser;
        e.timestamp_ms = now_;
        e.source_type = "test";
        return e;
    }
    Event text(std::string_view t) const {
        Event e = base(EventKind::message);
        e.text = std::string(t);
        return e;
    }
    Event postback(std::string_view payload) const {
        Event e = base(EventKind::postback);
        e.payload = std::string(payload);
        e.text = "Button title";
        return e;
    }
    // A quick reply tapped on Facebook: a message with the title as text and the payload.
    Event quick_reply(std::string_view title, std::string_view payload) const {
        Event e = base(EventKind::message);
        e.text = std::string(title);
        e.payload = std::string(payload);
        return e;
    }
    Event comment(std::string_view message, std::string_view from, std::string_view parent,
                  std::string_view verb = "add") const {
        Event e = base(EventKind::comment);
        e.text = std::string(message);
        e.user_id = std::string(from);
        e.comment = Comment{"post-9_comment-1", "post-9", std::string(parent), std::string(verb), std::string(from),
                            "Người dân"};
        return e;
    }

    Decision send(const Event& e) {
        now_ += 1000;
        Context ctx;
        ctx.now_ms = now_;
        ctx.settings = settings_;
        Decision d = handle(e, state_, *content_, ctx);
        state_ = d.state;
        return d;
    }
    // Says something first so that later turns are not first messages.
    void greet() {
        auto d = send(postback(conversation::kGetStarted));
        ASSERT_TRUE(state_.greeted);
    }

    static std::shared_ptr<const messages::Content> content_;
    Platform platform_ = Platform::facebook;
    ConversationState state_;
    Settings settings_;
    std::int64_t now_ = kStart;
};

std::shared_ptr<const messages::Content> Conversation::content_;

// ---- greeting -----------------------------------------------------------------------------------

TEST_F(Conversation, GetStartedGreetsWithTheMainMenu) {
    const Decision d = send(postback("GET_STARTED"));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.greeting"));
    EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads());
    EXPECT_FALSE(d.replies[0].quick_replies.empty());
    EXPECT_TRUE(state_.greeted);
    EXPECT_EQ(state_.first_seen_ms, kStart);
    EXPECT_EQ(state_.last_inbound_ms, kStart);
    EXPECT_TRUE(d.effects.empty());
}

TEST_F(Conversation, GreetingTemplateSaysItIsAutomatedAndHowToReachAPerson) {
    const std::string g = cat().text("conv.greeting");
    EXPECT_NE(g.find("tự động"), std::string::npos);
    EXPECT_NE(g.find("gặp cán bộ"), std::string::npos);
}

TEST_F(Conversation, ZaloFollowGreetsAndUnfollowClearsSubscriptionSilently) {
    platform_ = Platform::zalo;
    Decision d = send(base(EventKind::follow));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads());
    EXPECT_TRUE(state_.greeted);

    d = send(text("ĐĂNG KÝ"));
    EXPECT_TRUE(state_.subscribed);
    d = send(base(EventKind::unfollow));
    EXPECT_TRUE(d.replies.empty());
    EXPECT_FALSE(state_.subscribed);
}

TEST_F(Conversation, FirstMessageGreetingGetsOnlyTheGreeting) {
    const Decision d = send(text("Xin chào"));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.greeting"));
    EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads());
    EXPECT_TRUE(state_.greeted);

    // Later greetings get a short hello, not the whole introduction again.
    const Decision again = send(text("hi"));
    ASSERT_EQ(again.replies.size(), 1u);
    EXPECT_NE(again.replies[0].text, cat().text("conv.greeting"));
    EXPECT_EQ(payloads(again.replies[0]), main_menu_payloads());
}

TEST_F(Conversation, FirstMessageThatIsAQuestionIsGreetedAndAnswered) {
    const Decision d = send(text("PGI là gì?"));
    ASSERT_GE(d.replies.size(), 2u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.greeting"));
    EXPECT_FALSE(d.replies[0].topic.has_value());
    for (std::size_t i = 1; i < d.replies.size(); ++i) {
        EXPECT_EQ(d.replies[i].topic, std::optional<std::string>("pgi.what"));
    }
    EXPECT_EQ(payloads(d.replies.back()).back(), "MENU");
    EXPECT_TRUE(state_.greeted);
}

TEST_F(Conversation, FirstMessageThatIsAPhotoIsGreetedAndAnswered) {
    Event photo = base(EventKind::message);
    photo.attachments.push_back(Attachment{AttachmentType::image, "https://cdn/x.jpg", "", "", {}});
    const Decision d = send(photo);
    ASSERT_EQ(d.replies.size(), 2u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.greeting"));
    EXPECT_EQ(d.replies[1].text, cat().text("conv.media_outside"));
}

TEST_F(Conversation, ReferralOptinAndSubmittedInfoAreAnswered) {
    Decision d = send(base(EventKind::referral));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.greeting"));
    d = send(base(EventKind::optin));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads());
    Event info = base(EventKind::submit_info);
    info.submitted = SubmittedInfo{"A", "0912345678", "Lạng Sơn"};
    d = send(info);
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.info_received"));
}

// ---- menus --------------------------------------------------------------------------------------

TEST_F(Conversation, MenuNavigation) {
    greet();
    Decision d = send(postback("MENU"));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads());

    d = send(quick_reply("Phân loại rác", "MENU:waste"));
    ASSERT_EQ(d.replies.size(), 1u);
    const messages::Category* waste = cat().find_category("waste");
    ASSERT_NE(waste, nullptr);
    std::vector<std::string> expected;
    for (const auto& id : waste->topic_ids) {
        expected.push_back("TOPIC:" + id);
    }
    expected.emplace_back("MENU");
    EXPECT_EQ(payloads(d.replies[0]), expected);
    for (std::size_t i = 0; i + 1 < d.replies[0].quick_replies.size(); ++i) {
        EXPECT_EQ(d.replies[0].quick_replies[i].title, cat().find_topic(waste->topic_ids[i])->short_title);
    }

    d = send(quick_reply("Cách phân loại", "TOPIC:waste.sorting"));
    const messages::Topic* topic = cat().find_topic("waste.sorting");
    ASSERT_NE(topic, nullptr);
    ASSERT_EQ(d.replies.size(), topic->answer.size());
    for (std::size_t i = 0; i < d.replies.size(); ++i) {
        EXPECT_EQ(d.replies[i].text, topic->answer[i]);
        EXPECT_EQ(d.replies[i].topic, std::optional<std::string>("waste.sorting"));
        if (i + 1 < d.replies.size()) {
            EXPECT_TRUE(d.replies[i].quick_replies.empty());
        }
    }
    std::vector<std::string> follow;
    for (const auto& id : topic->follow_ups) {
        follow.push_back("TOPIC:" + id);
    }
    follow.emplace_back("MENU");
    EXPECT_EQ(payloads(d.replies.back()), follow);
    EXPECT_TRUE(d.effects.empty());
}

TEST_F(Conversation, PayloadWinsOverQuickReplyTitle) {
    greet();
    // The title "Menu" as text would show the main menu; the payload says which topic.
    const Decision d = send(quick_reply("Menu", "TOPIC:pgi.what"));
    ASSERT_FALSE(d.replies.empty());
    EXPECT_EQ(d.replies[0].topic, std::optional<std::string>("pgi.what"));
}

TEST_F(Conversation, MenuWordsShowTheMainMenu) {
    greet();
    for (const char* t : {"menu", "Bắt đầu", "bat dau", "trợ giúp", "TRO GIUP"}) {
        const Decision d = send(text(t));
        ASSERT_EQ(d.replies.size(), 1u) << t;
        EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads()) << t;
        EXPECT_TRUE(d.effects.empty()) << t;
    }
}

TEST_F(Conversation, UnknownMenuOrTopicFallsBackToTheMainMenu) {
    greet();
    for (const char* p : {"MENU:nope", "TOPIC:nope.nope", "YES", "NO", "TIPOFF:NOT_A_THING", "SOMETHING_ELSE"}) {
        const Decision d = send(postback(p));
        ASSERT_EQ(d.replies.size(), 1u) << p;
        EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads()) << p;
    }
}

// ---- questions ----------------------------------------------------------------------------------

TEST_F(Conversation, TopicsByTextWithAndWithoutDiacritics) {
    greet();
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"PGI là gì?", "pgi.what"},
        {"phân loại rác như thế nào", "waste.sorting"},
        {"phan loai rac nhu the nao", "waste.sorting"},
        {"lũ quét phải làm gì", "disaster.flash_flood"},
    };
    for (const auto& [question, id] : cases) {
        const Decision d = send(text(question));
        ASSERT_FALSE(d.replies.empty()) << question;
        for (const auto& r : d.replies) {
            EXPECT_EQ(r.topic, std::optional<std::string>(id)) << question;
        }
        EXPECT_EQ(payloads(d.replies.back()).back(), "MENU") << question;
        EXPECT_TRUE(d.effects.empty()) << question;
    }
}

TEST_F(Conversation, AmbiguousQuestionOffersTheCandidates) {
    greet();
    const char* ambiguous = nullptr;
    messages::MatchResult match;
    for (const char* t : {"rác", "luật", "chỉ số", "môi trường", "pgi la gi"}) {
        match = content_->matcher->match(t);
        if (match.verdict == messages::MatchResult::Verdict::ambiguous) {
            ambiguous = t;
            break;
        }
    }
    ASSERT_NE(ambiguous, nullptr) << "no ambiguous probe left: update the list";
    const Decision d = send(text(ambiguous));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.did_you_mean"));
    std::vector<std::string> expected;
    for (const auto& s : match.top) {
        expected.push_back("TOPIC:" + s.topic->id);
    }
    expected.emplace_back("MENU");
    EXPECT_EQ(payloads(d.replies[0]), expected);
    EXPECT_GE(expected.size(), 3u);
    EXPECT_TRUE(d.effects.empty());
}

TEST_F(Conversation, UnmatchedQuestionIsHonestAndRecorded) {
    greet();
    const std::string q = "qwxz bzzt flarp zyxw";  // nothing any topic could share
    const Decision d = send(text(q));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.unmatched"));
    EXPECT_EQ(payloads(d.replies[0]), main_menu_payloads());
    EXPECT_TRUE(has_unmatched(d, q));
    EXPECT_EQ(d.effects.size(), 1u);
}

// ---- small talk and media: never silence --------------------------------------------------------

TEST_F(Conversation, SmallTalkGetsShortAnswers) {
    greet();
    const std::vector<std::pair<const char*, const char*>> cases = {
        {"cảm ơn bạn", "conv.thanks"}, {"tks", "conv.thanks"}, {"Thanks!", "conv.thanks"},
        {"ok", "conv.ok"},             {"vâng", "conv.ok"},    {"bye", "conv.bye"},
        {"tạm biệt", "conv.bye"},      {"alo", "conv.hello_again"},
    };
    for (const auto& [t, key] : cases) {
        const Decision d = send(text(t));
        ASSERT_EQ(d.replies.size(), 1u) << t;
        EXPECT_EQ(d.replies[0].text, cat().text(key)) << t;
        EXPECT_TRUE(d.effects.empty()) << t;
    }
}

TEST_F(Conversation, StickersMediaAndLocationsOutsideADialog) {
    greet();
    Event sticker = base(EventKind::message);
    sticker.attachments.push_back(Attachment{AttachmentType::image, "https://cdn/s.png", "", "369239263222822", {}});
    Decision d = send(sticker);
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.sticker"));

    for (auto type : {AttachmentType::image, AttachmentType::video, AttachmentType::audio, AttachmentType::file}) {
        Event media = base(EventKind::message);
        media.attachments.push_back(Attachment{type, "https://cdn/x", "", "", {}});
        d = send(media);
        ASSERT_EQ(d.replies.size(), 1u);
        EXPECT_EQ(d.replies[0].text, cat().text("conv.media_outside"));
        EXPECT_EQ(payloads(d.replies[0]), (std::vector<std::string>{"TIPOFF:START", "MENU"}));
        EXPECT_FALSE(tipoff_intake::active(state_));
    }

    Event where = base(EventKind::message);
    where.location = Location{21.85, 106.76};
    d = send(where);
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.location_outside"));
    EXPECT_EQ(payloads(d.replies[0]).front(), "TIPOFF:START");

    d = send(base(EventKind::message));  // nothing at all
    ASSERT_EQ(d.replies.size(), 1u);
}

// ---- subscription -------------------------------------------------------------------------------

TEST_F(Conversation, SubscriptionByWordsWithAndWithoutDiacritics) {
    greet();
    const std::vector<std::pair<const char*, bool>> script = {
        {"ĐĂNG KÝ", true},  {"DỪNG", false},       {"dang ky", true}, {"dung", false},
        {"Đăng kí", true},  {"huy dang ky", false}, {"đăng ký", true}, {"Hủy đăng ký", false},
    };
    for (const auto& [t, subscribed] : script) {
        const Decision d = send(text(t));
        EXPECT_EQ(state_.subscribed, subscribed) << t;
        ASSERT_EQ(d.replies.size(), 1u) << t;
        EXPECT_EQ(d.replies[0].text, cat().text(subscribed ? "conv.subscribed" : "conv.unsubscribed")) << t;
    }
    // "đúng" (right) is not "dừng" (stop).
    send(text("đăng ký"));
    send(text("đúng"));
    EXPECT_TRUE(state_.subscribed);
}

TEST_F(Conversation, SubscriptionByPayloads) {
    greet();
    Decision d = send(postback("SUBSCRIBE"));
    EXPECT_TRUE(state_.subscribed);
    EXPECT_EQ(d.replies.at(0).text, cat().text("conv.subscribed"));
    d = send(postback("SUBSCRIBE"));
    EXPECT_TRUE(state_.subscribed);
    EXPECT_EQ(d.replies.at(0).text, cat().text("conv.already_subscribed"));
    d = send(quick_reply("Dừng", "UNSUBSCRIBE"));
    EXPECT_FALSE(state_.subscribed);
    EXPECT_EQ(d.replies.at(0).text, cat().text("conv.unsubscribed"));
    d = send(postback("UNSUBSCRIBE"));
    EXPECT_EQ(d.replies.at(0).text, cat().text("conv.not_subscribed"));
}

// ---- people -------------------------------------------------------------------------------------

TEST_F(Conversation, AskingForAPerson) {
    greet();
    // Contact details are configuration: the template's {contact} is filled from the settings.
    settings_.human_contact = "• Đường dây nóng: 0000.000.000";
    std::string expected = cat().text("conv.human");
    expected.replace(expected.find("{contact}"), 9, settings_.human_contact);
    for (const Event& e : {postback("HUMAN"), text("cho tôi gặp cán bộ"), text("noi chuyen voi nguoi that")}) {
        const Decision d = send(e);
        ASSERT_EQ(d.replies.size(), 1u) << e.text;
        EXPECT_EQ(d.replies[0].text, expected) << e.text;
        EXPECT_EQ(d.replies[0].text.find("{contact}"), std::string::npos);
    }
}

TEST_F(Conversation, HandoverSilenceThenTheBotComesBack) {
    greet();
    settings_.handover_silence_ms = 60'000;
    // The bot's own echo changes nothing.
    Event own = base(EventKind::echo);
    own.text = "bot text";
    Decision d = send(own);
    EXPECT_TRUE(d.replies.empty());
    EXPECT_EQ(state_.human_until_ms, 0);

    Event staff = base(EventKind::echo);
    staff.echo_from_human = true;
    staff.text = "Chào bạn, tôi là cán bộ Sở.";
    d = send(staff);
    EXPECT_TRUE(d.replies.empty());
    EXPECT_EQ(state_.human_until_ms, now_ + 60'000);

    now_ += 10'000;
    Event during = text("PGI là gì?");
    d = send(during);
    EXPECT_TRUE(d.replies.empty());
    EXPECT_TRUE(d.effects.empty());
    EXPECT_EQ(state_.last_inbound_ms, during.timestamp_ms);  // still recorded
    d = send(postback("GET_STARTED"));
    EXPECT_TRUE(d.replies.empty());
    d = send(text("ĐĂNG KÝ"));
    EXPECT_TRUE(d.replies.empty());

    now_ += 60'000;
    d = send(text("PGI là gì?"));
    ASSERT_GE(d.replies.size(), 2u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.back_to_bot"));
    EXPECT_EQ(d.replies[1].topic, std::optional<std::string>("pgi.what"));
    EXPECT_EQ(state_.human_until_ms, 0);

    d = send(text("PGI là gì?"));  // the notice only once
    ASSERT_FALSE(d.replies.empty());
    EXPECT_EQ(d.replies[0].topic, std::optional<std::string>("pgi.what"));
}

// ---- events that are never answered -------------------------------------------------------------

TEST_F(Conversation, EchoesReceiptsReactionsStandbyAndTimersAreNotAnswered) {
    greet();
    const ConversationState before = state_;
    for (EventKind kind : {EventKind::echo, EventKind::delivery, EventKind::read, EventKind::reaction,
                           EventKind::other, EventKind::timer}) {
        Event e = base(kind);
        e.text = "PGI là gì?";
        const Decision d = send(e);
        EXPECT_TRUE(d.replies.empty()) << to_string(kind);
        EXPECT_TRUE(d.effects.empty()) << to_string(kind);
    }
    Event standby = text("PGI là gì?");
    standby.standby = true;
    const Decision d = send(standby);
    EXPECT_TRUE(d.replies.empty());
    EXPECT_EQ(state_.subscribed, before.subscribed);
    EXPECT_EQ(state_.human_until_ms, 0);
}

TEST(NeedsHandling, ReceiptsOwnEchoesAndUnknownKindsAreNot) {
    const std::vector<std::pair<EventKind, bool>> expected = {
        {EventKind::message, true},   {EventKind::postback, true}, {EventKind::follow, true},
        {EventKind::unfollow, true},  {EventKind::referral, true}, {EventKind::optin, true},
        {EventKind::reaction, true},  {EventKind::echo, false},    {EventKind::delivery, false},
        {EventKind::read, false},     {EventKind::comment, true},  {EventKind::submit_info, true},
        {EventKind::timer, true},     {EventKind::other, false},
    };
    for (const auto& [kind, needed] : expected) {
        Event e;
        e.kind = kind;
        e.text = "PGI là gì?";
        EXPECT_EQ(needs_handling(e), needed) << to_string(kind);
    }
    Event staff;
    staff.kind = EventKind::echo;
    staff.echo_from_human = true;
    EXPECT_TRUE(needs_handling(staff)) << "a person typing in the page inbox takes over";
    // echo_from_human means nothing on other kinds.
    Event receipt;
    receipt.kind = EventKind::read;
    receipt.echo_from_human = true;
    EXPECT_FALSE(needs_handling(receipt));
    Event standby;
    standby.kind = EventKind::message;
    standby.standby = true;
    EXPECT_TRUE(needs_handling(standby)) << "standby messages are still recorded as inbound";
}

TEST_F(Conversation, EventsThatNeedNoHandlingLeaveTheStateAsItIs) {
    greet();
    ASSERT_FALSE(send(postback("TIPOFF:START")).replies.empty());
    ASSERT_TRUE(tipoff_intake::active(state_));
    state_.subscribed = true;
    state_.pending_notices = {"LS-2507-0001"};
    const std::string before = state_to_json(state_);

    for (EventKind kind : {EventKind::delivery, EventKind::read, EventKind::other, EventKind::echo}) {
        Event e = base(kind);
        e.text = "PGI là gì?";
        e.payload = "GET_STARTED";
        e.timestamp_ms = now_ + 60'000;  // later than anything recorded
        ASSERT_FALSE(needs_handling(e));
        const Decision d = send(e);
        EXPECT_TRUE(d.replies.empty()) << to_string(kind);
        EXPECT_TRUE(d.effects.empty()) << to_string(kind);
        EXPECT_EQ(state_to_json(d.state), before) << to_string(kind);
    }

    // The same words as a message are acted on: the state above was one that reacts.
    const Decision d = send(text("PGI là gì?"));
    EXPECT_FALSE(d.replies.empty());
    EXPECT_NE(state_to_json(state_), before);
}

TEST_F(Conversation, AnEchoFromAPersonIsHandled) {
    greet();
    settings_.handover_silence_ms = 60'000;
    Event staff = base(EventKind::echo);
    staff.echo_from_human = true;
    ASSERT_TRUE(needs_handling(staff));
    const Decision d = send(staff);
    EXPECT_TRUE(d.replies.empty());
    EXPECT_EQ(d.state.human_until_ms, now_ + 60'000);
}

TEST_F(Conversation, ReactionsAreRecordedAsInbound) {
    greet();
    now_ += 5000;
    const Event reaction = base(EventKind::reaction);
    send(reaction);
    EXPECT_EQ(state_.last_inbound_ms, reaction.timestamp_ms);
}

// ---- fanpage comments ---------------------------------------------------------------------------

TEST_F(Conversation, TopLevelCommentThatMatchesGetsOnePrivateReply) {
    const Decision d = send(comment("Cho hỏi phân loại rác như thế nào ạ?", "citizen-7", "post-9"));
    ASSERT_EQ(d.replies.size(), 1u);
    const OutMessage& r = d.replies[0];
    EXPECT_EQ(r.comment_id, "post-9_comment-1");
    EXPECT_EQ(r.topic, std::optional<std::string>("waste.sorting"));
    const messages::Topic* topic = cat().find_topic("waste.sorting");
    ASSERT_NE(topic, nullptr);
    EXPECT_EQ(r.text.rfind(topic->answer.front(), 0), 0u);  // starts with the first bubble
    EXPECT_NE(r.text.find(cat().text("conv.comment_invite")), std::string::npos);
    EXPECT_TRUE(d.effects.empty());

    // A missing parent_id is top-level too.
    const Decision d2 = send(comment("phan loai rac nhu the nao", "citizen-8", ""));
    EXPECT_EQ(d2.replies.size(), 1u);
}

TEST_F(Conversation, CommentsThatGetNoReply) {
    // The page's own comment, a reply to a comment, an edit, a removal, chit-chat.
    EXPECT_TRUE(send(comment("Phân loại rác như thế nào?", kPage, "post-9")).replies.empty());
    EXPECT_TRUE(send(comment("Phân loại rác như thế nào?", "citizen-7", "post-9_comment-0")).replies.empty());
    EXPECT_TRUE(send(comment("Phân loại rác như thế nào?", "citizen-7", "post-9", "edited")).replies.empty());
    EXPECT_TRUE(send(comment("Phân loại rác như thế nào?", "citizen-7", "post-9", "remove")).replies.empty());
    const Decision d = send(comment("đẹp quá 😍 qwxz bzzt flarp", "citizen-7", "post-9"));
    EXPECT_TRUE(d.replies.empty());
    EXPECT_TRUE(d.effects.empty());
}

TEST_F(Conversation, CommentReportingPollutionIsInvitedToTheReportDialog) {
    const Decision d = send(comment("Tôi muốn phản ánh ô nhiễm", "citizen-7", "post-9"));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].comment_id, "post-9_comment-1");
    EXPECT_EQ(d.replies[0].text, cat().text("conv.comment_tipoff"));
    EXPECT_EQ(payloads(d.replies[0]).front(), "TIPOFF:START");
    EXPECT_FALSE(tipoff_intake::active(state_));  // the dialog opens only in chat
}

// ---- tip-offs -----------------------------------------------------------------------------------

TEST_F(Conversation, TipoffStartsFromTheMenuAndExpiresOnItsTimer) {
    greet();
    Decision d = send(postback("TIPOFF:START"));
    EXPECT_FALSE(d.replies.empty());
    EXPECT_TRUE(tipoff_intake::active(state_));

    // While the report is open, the intake decides: a question does not reach the FAQ.
    d = send(text("có người đổ rác ra suối"));
    EXPECT_FALSE(d.replies.empty());

    // A timer for something else: nothing.
    Event other_timer = base(EventKind::timer);
    other_timer.source_type = "timer.something_else";
    d = send(other_timer);
    EXPECT_TRUE(d.replies.empty());
    EXPECT_TRUE(tipoff_intake::active(state_));

    now_ += settings_.tipoff_idle_expiry_ms + 1000;
    Event expiry = base(EventKind::timer);
    expiry.source_type = "timer.tipoff_expiry";
    d = send(expiry);
    EXPECT_FALSE(tipoff_intake::active(state_));
    EXPECT_FALSE(d.replies.empty());
}

TEST_F(Conversation, OfferToReportYesStartsTheDialogWithTheDescription) {
    greet();
    state_.pending = std::string(conversation::kPendingOfferTipoff);
    state_.pending_text = "Nhà máy giấy xả nước thải đen ra suối ở thôn Bản Khiếc mỗi đêm";
    Decision d = send(quick_reply("Có", "YES"));
    EXPECT_TRUE(tipoff_intake::active(state_));
    EXPECT_TRUE(state_.pending.empty());
    EXPECT_TRUE(state_.pending_text.empty());
    EXPECT_FALSE(d.replies.empty());
}

TEST_F(Conversation, OfferToReportAnsweredByTextOrDeclined) {
    greet();
    state_.pending = std::string(conversation::kPendingOfferTipoff);
    state_.pending_text = "khói đen từ xưởng gỗ bay vào nhà tôi mỗi ngày";
    send(text("có"));
    EXPECT_TRUE(tipoff_intake::active(state_));

    ConversationState fresh;
    fresh.greeted = true;
    fresh.pending = std::string(conversation::kPendingOfferTipoff);
    fresh.pending_text = "khói đen từ xưởng gỗ";
    state_ = fresh;
    const Decision d = send(postback("NO"));
    EXPECT_FALSE(tipoff_intake::active(state_));
    EXPECT_TRUE(state_.pending.empty());
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.offer_declined"));

    // Moving on to something else drops the question.
    state_ = fresh;
    const Decision d2 = send(text("PGI là gì?"));
    EXPECT_TRUE(state_.pending.empty());
    EXPECT_FALSE(tipoff_intake::active(state_));
    ASSERT_FALSE(d2.replies.empty());
    EXPECT_EQ(d2.replies[0].topic, std::optional<std::string>("pgi.what"));
}

TEST_F(Conversation, TextDescribingPollutionIsOfferedTheReportDialog) {
    greet();
    const std::string told = "Nhà máy giấy xả nước thải đen ra suối ở thôn Bản Khiếc mỗi đêm";
    ASSERT_EQ(tipoff_intake::classify(text(told), *content_), tipoff_intake::Intent::describes);
    Decision d = send(text(told));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_EQ(d.replies[0].text, cat().text("conv.offer_tipoff"));
    EXPECT_EQ(payloads(d.replies[0]), (std::vector<std::string>{"YES", "NO"}));
    EXPECT_EQ(state_.pending, conversation::kPendingOfferTipoff);
    EXPECT_EQ(state_.pending_text, told);
    EXPECT_FALSE(tipoff_intake::active(state_));
    EXPECT_TRUE(d.effects.empty());

    d = send(quick_reply("Có, gửi phản ánh", "YES"));
    EXPECT_TRUE(tipoff_intake::active(state_));
    EXPECT_NE(state_.dialog.find("Bản Khiếc"), std::string::npos);  // the description was kept
}

class FakeLookups : public Lookups {
public:
    std::optional<TipoffStatusView> tipoff_status(std::string_view code, Platform platform,
                                                  std::string_view user_id) const override {
        asked_code = std::string(code);
        asked_platform = platform;
        asked_user = std::string(user_id);
        return std::nullopt;
    }
    mutable std::string asked_code;
    mutable Platform asked_platform = Platform::cli;
    mutable std::string asked_user;
};

TEST_F(Conversation, LookupFromTheMenuThenABareCode) {
    greet();
    Decision d = send(postback("TIPOFF:LOOKUP"));
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_FALSE(tipoff_intake::active(state_));

    FakeLookups lookups;
    Context ctx;
    ctx.now_ms = now_ + 1000;
    ctx.lookups = &lookups;
    d = handle(text("LS-2611-0042"), state_, *content_, ctx);
    ASSERT_EQ(d.replies.size(), 1u);
    EXPECT_TRUE(d.effects.empty());
    EXPECT_EQ(lookups.asked_code, "LS-2611-0042");
    EXPECT_EQ(lookups.asked_platform, Platform::facebook);
    EXPECT_EQ(lookups.asked_user, kUser);
}

TEST_F(Conversation, EveryTemplateKeyOfTheConversationExists) {
    for (std::string_view key : messages::keys::kConversation) {
        EXPECT_TRUE(cat().templates.contains(key)) << key;
    }
}

}  // namespace
}  // namespace pgibot::handlers
