#include "bot/tipoffs/export.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bot/tipoffs/format_util.hpp"
#include "tests/bot/tipoffs/test_util.hpp"

namespace pgibot::tipoffs {
namespace {

constexpr std::int64_t kT = 1'751'337'000'000;  // 2025-07-01 09:30:00 +07:00

DataKey key(unsigned char v) {
    DataKey k{};
    k.fill(v);
    return k;
}

store::TipoffRow row_for(const IdentityVault& vault, std::string code) {
    const auto nt = prepare_tipoff(testing::sample_report(), vault, kT);
    store::TipoffRow row;
    row.id = 1;
    row.code = std::move(code);
    row.report = nt.report;
    row.identity_sealed = nt.identity_sealed;
    row.reporter_lookup = nt.reporter_lookup;
    row.created_ms = kT;
    row.updated_ms = kT + 60'000;
    row.history = {{tipoff::Status::received, "citizen", "", kT},
                   {tipoff::Status::forwarded, "system", "Đã chuyển tới Sở", kT + 60'000}};
    return row;
}

TEST(Export, TimeFormats) {
    EXPECT_EQ(iso_time_vn(kT), "2025-07-01T09:30:00+07:00");
    EXPECT_EQ(display_time_vn(kT), "09:30 01/07/2025");
    EXPECT_EQ(rfc5322_date_vn(kT), "Tue, 01 Jul 2025 09:30:00 +0700");
    EXPECT_EQ(display_date("2025-07-01"), "01/07/2025");
}

TEST(Export, CsvField) {
    EXPECT_EQ(csv_field("plain"), "plain");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("line1\nline2"), "\"line1\nline2\"");
    EXPECT_EQ(csv_field(""), "");
}

TEST(Export, CsvForExcel) {
    IdentityVault vault(key(1));
    auto row = row_for(vault, "LS-2607-0001");
    row.report.description = "Nước thải đen, hôi\nxả ban đêm \"rất nhiều\"";
    auto second = row_for(vault, "LS-2607-0002");
    second.report.description = "=HYPERLINK(\"http://evil\")";
    const auto csv = export_tipoffs_csv({row, second});

    ASSERT_TRUE(csv.starts_with("\xEF\xBB\xBF"));
    EXPECT_TRUE(csv.ends_with("\r\n"));
    // Every record ends with CRLF, never a bare LF outside quotes; header is Vietnamese UTF-8.
    EXPECT_TRUE(csv.substr(3).starts_with("Mã phản ánh,Thời điểm tiếp nhận,Trạng thái,"));
    EXPECT_NE(csv.find("\"Nước thải đen, hôi\nxả ban đêm \"\"rất nhiều\"\"\""), std::string::npos);
    EXPECT_NE(csv.find("\"Xưởng X, \"\"Công ty TNHH Y\"\"\""), std::string::npos);
    EXPECT_NE(csv.find("\"https://cdn.example.com/a.jpg\nhttps://cdn.example.com/b.mp4\""), std::string::npos);
    EXPECT_NE(csv.find("\"'=HYPERLINK(\"\"http://evil\"\")\""), std::string::npos);
    EXPECT_NE(csv.find("21.853700,106.761500"), std::string::npos);
    // Three records: count CRLFs outside quotes.
    int records = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < csv.size(); ++i) {
        if (csv[i] == '"') quoted = !quoted;
        if (!quoted && csv[i] == '\n') {
            EXPECT_EQ(csv[i - 1], '\r') << "bare LF at " << i;
            ++records;
        }
    }
    EXPECT_FALSE(quoted);
    EXPECT_EQ(records, 3);
    // Never the identity.
    EXPECT_EQ(csv.find("0912345678"), std::string::npos);
    EXPECT_EQ(csv.find("Số 5 Lê Lợi"), std::string::npos);
}

TEST(Export, ListFormats) {
    IdentityVault vault(key(1));
    auto row = row_for(vault, "LS-2607-0001");
    row.status = tipoff::Status::forwarded;
    auto failed = row_for(vault, "LS-2607-0002");
    failed.status = tipoff::Status::received;
    failed.history.back() = {tipoff::Status::received, "system", "forward_failed: gave up after 8 attempts", kT};

    const auto table = format_tipoff_list({row, failed}, ListFormat::table);
    EXPECT_NE(table.find("LS-2607-0001"), std::string::npos);
    EXPECT_NE(table.find("received (forward_failed)"), std::string::npos);
    EXPECT_NE(table.find("Phường Đông Kinh"), std::string::npos);
    EXPECT_NE(table.find("…"), std::string::npos);  // long description cut
    EXPECT_NE(table.find("(2 phản ánh)"), std::string::npos);

    const auto json = nlohmann::json::parse(format_tipoff_list({row, failed}, ListFormat::json));
    ASSERT_EQ(json.size(), 2U);
    EXPECT_EQ(json[0]["code"], "LS-2607-0001");
    EXPECT_EQ(json[0]["forward_failed"], false);
    EXPECT_EQ(json[1]["forward_failed"], true);
    EXPECT_FALSE(json[0].contains("reporter"));

    const auto csv = format_tipoff_list({row}, ListFormat::csv);
    EXPECT_FALSE(csv.starts_with("\xEF\xBB\xBF"));
    EXPECT_TRUE(
        csv.starts_with("code,created_at,status,forward_failed,kind,commune_code,commune_name,description\r\n"));
    EXPECT_NE(csv.find("LS-2607-0001,2025-07-01T09:30:00+07:00,forwarded,false,wastewater,05977"), std::string::npos);

    EXPECT_EQ(list_format_from_string("csv"), ListFormat::csv);
    EXPECT_FALSE(list_format_from_string("xml"));
}

TEST(Export, ShowRevealsOnlyWithVaultAndFlag) {
    IdentityVault vault(key(1));
    const auto row = row_for(vault, "LS-2607-0001");
    const std::vector<store::ForwardAttempt> attempts = {
        {"webhook", "https://agency.example.vn/hook", false, "HTTP 503", kT + 1000},
        {"webhook", "https://agency.example.vn/hook", true, "HTTP 200", kT + 60'000}};

    const auto hidden = format_tipoff_show(row, attempts, ShowFormat::text);
    EXPECT_NE(hidden.find("[đã mã hóa]"), std::string::npos);
    EXPECT_EQ(hidden.find("0912345678"), std::string::npos);
    EXPECT_NE(hidden.find("HTTP 503"), std::string::npos);
    EXPECT_NE(hidden.find("Đã chuyển tới Sở"), std::string::npos);

    const auto not_asked = format_tipoff_show(row, attempts, ShowFormat::text, {&vault, false});
    EXPECT_EQ(not_asked.find("0912345678"), std::string::npos);

    const auto revealed = format_tipoff_show(row, attempts, ShowFormat::text, {&vault, true});
    EXPECT_NE(revealed.find("0912345678"), std::string::npos);
    EXPECT_NE(revealed.find("Nguyễn Thị Hoa"), std::string::npos);

    IdentityVault wrong(key(2));
    const auto bad = format_tipoff_show(row, attempts, ShowFormat::text, {&wrong, true});
    EXPECT_NE(bad.find("KHÔNG GIẢI MÃ ĐƯỢC"), std::string::npos);

    const auto j = nlohmann::json::parse(format_tipoff_show(row, attempts, ShowFormat::json, {&vault, true}));
    EXPECT_EQ(j["reporter"]["phone"], "0912345678");
    EXPECT_EQ(j["history"].size(), 2U);
    EXPECT_EQ(j["forward_attempts"].size(), 2U);
    EXPECT_EQ(j["forward_attempts"][1]["ok"], true);
    const auto j2 = nlohmann::json::parse(format_tipoff_show(row, attempts, ShowFormat::json));
    EXPECT_EQ(j2["reporter"], "sealed");
}

}  // namespace
}  // namespace pgibot::tipoffs
