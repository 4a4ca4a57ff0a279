#pragma once
// Helpers shared by the bot/tipoffs suites: a temporary folder and a sample report.
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "handlers/tipoff/report.hpp"

namespace pgibot::tipoffs::testing {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "pgibot-tipoffs-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return dir_; }

private:
    std::filesystem::path dir_;
};

inline tipoff::Report sample_report() {
    tipoff::Report r;
    r.platform = Platform::facebook;
    r.page_id = "page-1";
    r.kind = tipoff::PollutionKind::wastewater;
    r.description = "Xưởng chế biến xả nước thải đen, bốc mùi xuống suối. Gọi tôi: 0912 345 678, Nguyễn Thị Hoa.";
    r.commune_code = "05977";
    r.commune_name = "Phường Đông Kinh";
    r.place_detail = "Ngõ 12, đường Bà Triệu";
    r.location = Location{21.8537, 106.7615};
    r.occurred_text = "sáng nay";
    r.occurred_date = "2025-07-01";
    r.suspect = "Xưởng X, \"Công ty TNHH Y\"";
    r.evidence = {{"https://cdn.example.com/a.jpg", "image"}, {"https://cdn.example.com/b.mp4", "video"}};
    r.anonymous = true;
    r.consent_share_identity = false;
    r.reporter = {"psid-123456", "Nguyễn Thị Hoa", "0912345678", "Số 5 Lê Lợi, Đông Kinh"};
    return r;
}

}  // namespace pgibot::tipoffs::testing
