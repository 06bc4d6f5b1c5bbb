// fault_proxy.hpp — a small TCP proxy between the uploader and the collector, on
// loopback, that reads each HTTP request and then either forwards it or does one of the
// things real networks do: refuse, reset, swallow, trickle, or answer itself.
#pragma once
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace kohtaamo::test::sync {

enum class Fault {
    Pass,             // forward the request, return the collector's reply
    ResetMidRequest,  // read half of the body, then reset the connection (nothing forwarded)
    LoseReply,        // forward; the collector stores the batch; reset before the reply
    Blackhole,        // read the request, never answer (keeps the connection open)
    Trickle,          // forward; return the reply at 1 byte per second
    CaptivePortal,    // answer "200 OK" with an HTML login page itself
    Status500,        // answer 500 itself
    Status503,        // answer 503 with Retry-After: retry_after_seconds itself
    EmptyReply,       // read the request, close the connection without a word (a crash)
};

class FaultProxy {
public:
    explicit FaultProxy(int target_port);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    // The next requests get these faults, in order; then every request passes.
    void inject(std::vector<Fault> faults);
    // A collector that dies on `text`: every request whose body (gunzipped) holds it, each
    // time, closes that connection and every other client connection without a reply,
    // as a collector process that crashed on it would (requests in flight may have been
    // stored; their replies never come).
    void crash_on(std::string text);
    // Closes the listening socket (connections are refused) or opens it again, same port.
    void refuse(bool on);
    int retry_after_seconds = 2;

    struct Seen {
        std::chrono::steady_clock::time_point at;
        Fault fault;
        std::string request_head;  // the request line and headers
        std::string reply_head;    // the collector's status line and headers (forwarded replies)
    };
    // Every request read so far, in order.
    std::vector<Seen> seen() const;
    std::size_t faults_left() const;

private:
    void open_listener();
    void accept_loop();
    void serve(int client);
    Fault next_fault(const std::string& request_head, std::size_t& index);
    void track(int fd, bool add);
    bool crashes_on(const std::string& request) const;

    int target_port_;
    int port_ = 0;
    std::atomic<int> listener_{-1};
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::deque<Fault> faults_;
    std::vector<Seen> seen_;
    std::set<int> open_fds_;
    std::set<int> clients_;    // the client side of open_fds_
    std::string crash_text_;
    std::vector<std::thread> threads_;
    std::thread acceptor_;
};

}  // namespace kohtaamo::test::sync
