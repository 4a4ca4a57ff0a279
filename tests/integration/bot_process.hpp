#pragma once
// Runs the real `pgibot` executable as a child process for loopback integration tests: writes its
// config, sets its environment, reads its output to learn the port it bound (listen port 0), and
// can stop it with any signal (SIGKILL for crash tests, SIGTERM for graceful shutdown).
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pgibot::testing {

class BotProcess {
public:
    BotProcess() = default;
    ~BotProcess();
    BotProcess(const BotProcess&) = delete;
    BotProcess& operator=(const BotProcess&) = delete;

    // Starts `pgibot <args...>` with `env` added to a minimal environment. For `serve`, waits until
    // it prints the line with its port (or exits, or the timeout passes): false then.
    bool start(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
               bool wait_for_listen = true, std::chrono::milliseconds timeout = std::chrono::seconds(20));
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    void signal(int sig);
    // Waits for the exit; returns the exit code, 128+signal when killed, -1 on timeout.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
    [[nodiscard]] std::string output() const;
    [[nodiscard]] bool running() const { return pid_ > 0; }

    // Runs a command to completion; returns {exit code, stdout+stderr}.
    static std::pair<int, std::string> run(const std::vector<std::string>& args,
                                           const std::map<std::string, std::string>& env = {},
                                           const std::string& stdin_text = {});

    static std::string executable();

private:
    pid_t pid_ = -1;
    int port_ = 0;
    int out_fd_ = -1;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::string output_;
};

}  // namespace pgibot::testing
