#include "tests/integration/bot_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <regex>

namespace pgibot::testing {

namespace {
std::vector<char*> to_argv(std::vector<std::string>& items) {
    std::vector<char*> out;
    for (auto& s : items) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

std::vector<std::string> make_env(const std::map<std::string, std::string>& extra) {
    std::vector<std::string> env;
    for (const char* keep : {"PATH", "HOME", "LANG", "TMPDIR", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
        if (const char* v = std::getenv(keep)) env.push_back(std::string(keep) + "=" + v);
    }
    for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
    return env;
}
}  // namespace

std::string BotProcess::executable() { return PGIBOT_EXECUTABLE; }

BotProcess::~BotProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(10));
    }
    if (reader_.joinable()) reader_.join();
    if (out_fd_ >= 0) ::close(out_fd_);
}

bool BotProcess::start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                       bool wait_for_listen, std::chrono::milliseconds timeout) {
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return false;
    std::vector<std::string> argv_items{executable()};
    argv_items.insert(argv_items.end(), args.begin(), args.end());
    auto env_items = make_env(env);
    auto argv = to_argv(argv_items);
    auto envp = to_argv(env_items);
    {
        std::lock_guard lock(mutex_);
        output_.clear();
    }
    port_ = 0;
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        ::dup2(pipe_fds[1], STDOUT_FILENO);
        ::dup2(pipe_fds[1], STDERR_FILENO);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        ::execve(argv[0], argv.data(), envp.data());
        std::perror("execve");
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    pid_ = pid;
    if (reader_.joinable()) reader_.join();
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = pipe_fds[0];
    reader_ = std::thread([this, fd = out_fd_] {
        char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n <= 0) return;
            std::lock_guard lock(mutex_);
            output_.append(buf, static_cast<std::size_t>(n));
        }
    });
    if (!wait_for_listen) return true;
    static const std::regex listening(R"(listening on https?://[^:\s]+:(\d+))");
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        {
            std::lock_guard lock(mutex_);
            std::smatch m;
            if (std::regex_search(output_, m, listening)) {
                port_ = std::stoi(m[1].str());
                return true;
            }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

void BotProcess::signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
}

int BotProcess::wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            if (reader_.joinable()) reader_.join();
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
}

std::string BotProcess::output() const {
    std::lock_guard lock(mutex_);
    return output_;
}

std::pair<int, std::string> BotProcess::run(const std::vector<std::string>& args,
                                            const std::map<std::string, std::string>& env,
                                            const std::string& stdin_text) {
    int out_pipe[2];
    int in_pipe[2];
    if (::pipe(out_pipe) != 0 || ::pipe(in_pipe) != 0) return {-1, "pipe failed"};
    std::vector<std::string> argv_items{executable()};
    argv_items.insert(argv_items.end(), args.begin(), args.end());
    auto env_items = make_env(env);
    auto argv = to_argv(argv_items);
    auto envp = to_argv(env_items);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in_pipe[0], STDIN_FILENO);
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::dup2(out_pipe[1], STDERR_FILENO);
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        ::close(in_pipe[0]);
        ::close(in_pipe[1]);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(in_pipe[0]);
    if (!stdin_text.empty()) {
        [[maybe_unused]] auto w = ::write(in_pipe[1], stdin_text.data(), stdin_text.size());
    }
    ::close(in_pipe[1]);
    std::string out;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace pgibot::testing
