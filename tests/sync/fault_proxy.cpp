#include "fault_proxy.hpp"

#include "protocol.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kohtaamo::test::sync {

namespace {

using namespace std::chrono_literals;

// Waits until `fd` is readable; false on stop or after `limit`.
bool wait_readable(int fd, const std::atomic<bool>& stopping, std::chrono::milliseconds limit = 30s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!stopping && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        int rc = ::poll(&p, 1, 50);
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
    return false;
}

// Reads more bytes into `buf`; false on EOF, error or stop.
bool read_more(int fd, std::string& buf, const std::atomic<bool>& stopping) {
    if (!wait_readable(fd, stopping)) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
}

bool send_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

// The header block's length (through \r\n\r\n) and the Content-Length; 0 when incomplete.
std::size_t header_end(const std::string& buf, std::size_t& content_length) {
    auto pos = buf.find("\r\n\r\n");
    if (pos == std::string::npos) return 0;
    std::string head = buf.substr(0, pos);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    content_length = 0;
    auto cl = lower.find("\r\ncontent-length:");
    if (cl != std::string::npos) content_length = std::stoull(head.substr(cl + 17));
    return pos + 4;
}

// Reads one whole HTTP message (headers + Content-Length body) from `fd` into `out`,
// keeping any bytes beyond it in `buf`. `body_fraction` < 1 stops early (for a reset).
bool read_message(int fd, std::string& buf, std::string& out, const std::atomic<bool>& stopping,
                  double body_fraction = 1.0) {
    std::size_t length = 0, head = 0;
    while ((head = header_end(buf, length)) == 0)
        if (!read_more(fd, buf, stopping)) return false;
    std::size_t want = head + static_cast<std::size_t>(static_cast<double>(length) * body_fraction);
    while (buf.size() < want)
        if (!read_more(fd, buf, stopping)) return false;
    out = buf.substr(0, want);
    buf.erase(0, want);
    return true;
}

void reset_and_close(int fd) {
    linger l{1, 0};  // close() sends RST instead of FIN
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
}

int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string canned(int status, const std::string& reason, const std::string& type, const std::string& body,
                   const std::string& extra = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "Connection: close\r\n\r\n" + body;
}

}  // namespace

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {
    open_listener();
    acceptor_ = std::thread([this] { accept_loop(); });
}

FaultProxy::~FaultProxy() {
    stopping_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    int l = listener_.exchange(-1);
    if (l >= 0) ::close(l);
    {
        std::lock_guard lock(mutex_);
        for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_)
        if (t.joinable()) t.join();
}

void FaultProxy::open_listener() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("fault proxy: cannot listen: ") + std::strerror(errno));
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listener_ = fd;
}

void FaultProxy::refuse(bool on) {
    if (on) {
        int l = listener_.exchange(-1);
        if (l >= 0) ::close(l);
    } else if (listener_ < 0) {
        open_listener();
    }
}

void FaultProxy::crash_on(std::string text) {
    std::lock_guard lock(mutex_);
    crash_text_ = std::move(text);
}

void FaultProxy::inject(std::vector<Fault> faults) {
    std::lock_guard lock(mutex_);
    faults_.insert(faults_.end(), faults.begin(), faults.end());
}

std::vector<FaultProxy::Seen> FaultProxy::seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

std::size_t FaultProxy::faults_left() const {
    std::lock_guard lock(mutex_);
    return faults_.size();
}

Fault FaultProxy::next_fault(const std::string& request_head, std::size_t& index) {
    std::lock_guard lock(mutex_);
    Fault f = Fault::Pass;
    if (!faults_.empty()) {
        f = faults_.front();
        faults_.pop_front();
    }
    index = seen_.size();
    seen_.push_back({std::chrono::steady_clock::now(), f, request_head, ""});
    return f;
}

bool FaultProxy::crashes_on(const std::string& request) const {
    std::string text;
    {
        std::lock_guard lock(mutex_);
        text = crash_text_;
    }
    if (text.empty()) return false;
    const auto end = request.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string head = request.substr(0, end);
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string body = request.substr(end + 4);
    if (head.find("\r\ncontent-encoding: gzip") != std::string::npos) {
        try {
            body = kohtaamo::sync::gunzip(body, 64 << 20);
        } catch (const std::exception&) {
            return false;
        }
    }
    return body.find(text) != std::string::npos;
}

void FaultProxy::track(int fd, bool add) {
    std::lock_guard lock(mutex_);
    if (add)
        open_fds_.insert(fd);
    else
        open_fds_.erase(fd);
}

void FaultProxy::accept_loop() {
    while (!stopping_) {
        int l = listener_.load();
        if (l < 0) {
            std::this_thread::sleep_for(20ms);
            continue;
        }
        pollfd p{l, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int client = ::accept(l, nullptr, nullptr);
        if (client < 0) continue;
        track(client, true);
        std::lock_guard lock(mutex_);
        clients_.insert(client);
        threads_.emplace_back([this, client] { serve(client); });
    }
}

void FaultProxy::serve(int client) {
    std::string buf;
    bool reset = false;
    while (!stopping_) {
        // The request's headers decide its fault.
        std::size_t length = 0;
        while (header_end(buf, length) == 0)
            if (!read_more(client, buf, stopping_)) goto done;
        {
            std::size_t index = 0;
            Fault fault = next_fault(buf.substr(0, buf.find("\r\n\r\n")), index);
            std::string request;
            if (fault == Fault::ResetMidRequest) {
                read_message(client, buf, request, stopping_, 0.5);
                reset = true;
                goto done;
            }
            if (!read_message(client, buf, request, stopping_)) goto done;
            if (crashes_on(request)) {
                std::lock_guard lock(mutex_);
                seen_[index].fault = Fault::EmptyReply;
                for (int fd : clients_)
                    if (fd != client) ::shutdown(fd, SHUT_RDWR);
                goto done;  // closed without a word
            }
            switch (fault) {
                case Fault::CaptivePortal:
                    send_all(client, canned(200, "OK", "text/html",
                                            "<html><body><h1>Welcome to Library WiFi</h1><form>Accept the terms"
                                            "</form></body></html>"));
                    goto done;
                case Fault::Status500:
                    send_all(client, canned(500, "Internal Server Error", "text/plain", "oops"));
                    goto done;
                case Fault::Status503:
                    send_all(client, canned(503, "Service Unavailable", "text/plain", "busy",
                                            "Retry-After: " + std::to_string(retry_after_seconds) + "\r\n"));
                    goto done;
                case Fault::EmptyReply:
                    goto done;  // FIN, no reply: curl says "Empty reply from server"
                case Fault::Blackhole:
                    // Swallow everything, answer nothing, until the client gives up.
                    while (read_more(client, buf, stopping_)) {
                    }
                    goto done;
                default: break;
            }
            int upstream = connect_to(target_port_);
            if (upstream < 0) {
                reset = true;
                goto done;
            }
            track(upstream, true);
            std::string ubuf, response;
            bool ok = send_all(upstream, request) && read_message(upstream, ubuf, response, stopping_);
            track(upstream, false);
            ::close(upstream);
            if (!ok) {
                reset = true;
                goto done;
            }
            {
                std::lock_guard lock(mutex_);
                seen_[index].reply_head = response.substr(0, response.find("\r\n\r\n"));
            }
            if (fault == Fault::LoseReply) {
                reset = true;  // the collector has stored it; the kiosk never hears
                goto done;
            }
            if (fault == Fault::Trickle) {
                for (char c : response) {
                    if (stopping_ || !send_all(client, std::string(1, c))) break;
                    for (int i = 0; i < 20 && !stopping_; ++i) std::this_thread::sleep_for(50ms);
                }
                goto done;
            }
            if (!send_all(client, response)) goto done;
        }
    }
done:
    track(client, false);
    {
        std::lock_guard lock(mutex_);
        clients_.erase(client);
    }
    if (reset)
        reset_and_close(client);
    else
        ::close(client);
}

}  // namespace kohtaamo::test::sync
