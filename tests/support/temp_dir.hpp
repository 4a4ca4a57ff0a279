#pragma once
// TempDir: a fresh directory under the system temp dir, removed (recursively) on destruction.
//
//   pgibot::test::TempDir dir;
//   auto db = dir.path() / "bot.sqlite";
//   dir.write_file("content/topics.json", R"({"topics":[]})");   // creates parent folders
#include <filesystem>
#include <string>
#include <string_view>

namespace pgibot::test {

class TempDir {
public:
    explicit TempDir(std::string_view prefix = "pgibot-test");  // throws std::runtime_error on failure
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    // Writes `content` to path()/relative (binary, truncating), creating parent folders; returns the full path.
    std::filesystem::path write_file(const std::filesystem::path& relative, std::string_view content) const;

private:
    std::filesystem::path path_;
};

}  // namespace pgibot::test
