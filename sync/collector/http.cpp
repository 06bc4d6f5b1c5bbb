// http.cpp — the HTTP server on libmicrohttpd (see http.hpp for the design and the
// connection states).
#include "http.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

namespace kohtaamo::sync::http {

using Clock = std::chrono::steady_clock;

namespace {

std::string lower(const char* s) {
    std::string out = s ? s : "";
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Where a connection is (http.hpp, "Connection states").
enum class Phase { Waiting, Body, Working, Replying };

struct ConnInfo {
    int fd = -1;
    Phase phase = Phase::Waiting;
    Clock::time_point since = Clock::now();
};

// One request's state, from its headers to its reply (libmicrohttpd's per-request pointer).
struct RequestState {
    Request request;
    ConnInfo* conn = nullptr;
    bool too_large = false;
    bool dispatched = false;
    std::optional<Response> reply;
};

class WorkerPool {
public:
    explicit WorkerPool(int n) {
        for (int i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
    }
    ~WorkerPool() { join(); }
    void post(std::function<void()> job) {
        {
            std::lock_guard lock(m_);
            jobs_.push_back(std::move(job));
        }
        cv_.notify_one();
    }
    // Runs what is queued, then ends the threads.
    void join() {
        {
            std::lock_guard lock(m_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_)
            if (t.joinable()) t.join();
        threads_.clear();
    }

private:
    void run() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(m_);
                cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
                if (jobs_.empty()) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();
        }
    }
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// libmicrohttpd's messages, one per event: a flood of connections would be a flood of the
// same few lines. Each distinct message is written the first time in a window of 10 s, and
// its repeats are counted and written as one line when the window ends (flush, from the
// reaper). At most 32 distinct messages are told apart in a window; others are counted
// together.
class LogThrottle {
public:
    // The line to write now, or "" (a repeat, counted).
    std::string admit(const std::string& line) {
        std::lock_guard lock(m_);
        auto it = seen_.find(line);
        if (it != seen_.end()) {
            ++it->second;
            return {};
        }
        if (seen_.size() >= 32) {
            ++others_;
            return {};
        }
        seen_.emplace(line, 0);
        return line;
    }
    // The window's repeats, one line each, and a new window.
    std::vector<std::string> flush() {
        std::lock_guard lock(m_);
        std::vector<std::string> out;
        for (const auto& [line, repeats] : seen_)
            if (repeats) out.push_back(line + " (and " + std::to_string(repeats) + " more times in 10 s)");
        if (others_) out.push_back("http: " + std::to_string(others_) + " more messages in 10 s, of other kinds");
        seen_.clear();
        others_ = 0;
        return out;
    }

private:
    std::mutex m_;
    std::map<std::string, std::uint64_t> seen_;
    std::uint64_t others_ = 0;
};

}  // namespace

std::string Request::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name) return v;
    return {};
}

std::size_t Request::count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& [k, v] : headers) n += k == name;
    return n;
}

std::string printable(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    auto escape = [&](unsigned char c) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    };
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            escape(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // A UTF-8 sequence: its length from the lead byte, every continuation byte
        // 10xxxxxx, no overlong form, no surrogate, nothing past U+10FFFF.
        std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        bool ok = n > 0 && c <= 0xf4 && i + n <= s.size();
        std::uint32_t cp = ok ? (c & (0xff >> (n + 1))) : 0;
        for (std::size_t k = 1; ok && k < n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            ok = (cc & 0xc0) == 0x80;
            cp = (cp << 6) | (cc & 0x3f);
        }
        if (ok) ok = !(n == 3 && cp < 0x800) && !(n == 4 && (cp < 0x10000 || cp > 0x10ffff)) &&
                     !(cp >= 0xd800 && cp <= 0xdfff);
        if (ok && cp >= 0x80 && cp <= 0x9f) ok = false;  // C1 controls
        if (!ok) {
            escape(c);
            ++i;
            continue;
        }
        out.append(s.substr(i, n));
        i += n;
    }
    return out;
}

struct Server::Impl {
    Options options;
    Handler& handler;
    int listen_fd = -1;
    MHD_Daemon* daemon = nullptr;
    std::unique_ptr<WorkerPool> workers;
    std::mutex conns_mutex;
    std::set<ConnInfo*> conns;
    int live = 0;                 // in `conns` and not cut yet (under conns_mutex)
    std::uint64_t pushed_out = 0;  // made room for a new connection, since the last log line
    std::uint64_t turned_away = 0; // a new connection closed: every other one was being served
    LogThrottle mhd_log;
    std::thread reaper;
    std::atomic<bool> stopping{false};
    std::mutex stop_mutex;
    std::condition_variable stopped_cv;
    bool stopped = false;

    Impl(Options o, Handler& h) : options(std::move(o)), handler(h) {}

    void set_phase(ConnInfo* c, Phase p) {
        if (!c) return;
        std::lock_guard lock(conns_mutex);
        c->phase = p;
        c->since = Clock::now();
    }

    // Ends a connection (under conns_mutex): libmicrohttpd then sees the end of the stream
    // and closes it. The socket is still open while it is in `conns`: libmicrohttpd closes
    // it only after notify_connection(CLOSED), which waits for this lock.
    void cut(ConnInfo* c) {
        ::shutdown(c->fd, SHUT_RDWR);
        c->fd = -1;  // once
        --live;
    }

    // Room for a new connection (under conns_mutex). At `max_connections`, the one that has
    // waited longest for a request (idle after its reply, or its headers unfinished) goes:
    // a flood of connections that never send a request cannot hold every place, since
    // each new one pushes out the oldest of them, and a kiosk's request, complete within
    // milliseconds of its connection, is served. A connection whose request is in (its
    // body coming, on a worker, its reply going) is never pushed out: only when every
    // other connection is one of those is the new one closed.
    void make_room(ConnInfo* fresh) {
        if (live <= options.max_connections) return;
        ConnInfo* oldest = nullptr;
        for (ConnInfo* c : conns)
            if (c != fresh && c->fd >= 0 && c->phase == Phase::Waiting && (!oldest || c->since < oldest->since))
                oldest = c;
        if (oldest) {
            cut(oldest);
            ++pushed_out;
        } else if (fresh->fd >= 0) {
            cut(fresh);
            ++turned_away;
        }
    }

    // What happened at the limit and libmicrohttpd's repeated messages since the last
    // time: a few lines, not one per connection (every 10 s, and at the stop).
    void tell() {
        for (const auto& line : mhd_log.flush()) handler.log(line);
        std::uint64_t pushed = 0, turned = 0;
        {
            std::lock_guard lock(conns_mutex);
            std::swap(pushed, pushed_out);
            std::swap(turned, turned_away);
        }
        if (pushed || turned)
            handler.log("at max_connections (" + std::to_string(options.max_connections) + "): closed " +
                        std::to_string(pushed) +
                        " connection(s) waiting for a request (idle, or its headers unfinished) to make room for new "
                        "ones, and turned away " +
                        std::to_string(turned) + " new one(s) while every other had its request in");
    }

    // Every 200 ms: a connection past its deadline is cut; every 10 s, tell().
    void reap() {
        auto told = Clock::now();
        while (!stopping) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            const auto now = Clock::now();
            {
                std::lock_guard lock(conns_mutex);
                for (ConnInfo* c : conns) {
                    const bool late = (c->phase == Phase::Waiting && now - c->since > options.header_timeout) ||
                                      (c->phase == Phase::Body && now - c->since > options.body_timeout);
                    if (!late || c->fd < 0) continue;
                    if (c->phase == Phase::Body)
                        handler.log("closed a connection whose request body was not complete within " +
                                    std::to_string(options.body_timeout.count()) + " s of its headers");
                    cut(c);
                }
            }
            if (now - told >= std::chrono::seconds(10)) {
                tell();
                told = now;
            }
        }
    }

    static void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                              MHD_ConnectionNotificationCode code) {
        auto* self = static_cast<Impl*>(cls);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            auto* c = new ConnInfo;
            const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
            c->fd = info ? info->connect_fd : -1;
            std::lock_guard lock(self->conns_mutex);
            self->conns.insert(c);
            if (c->fd >= 0) ++self->live;
            *socket_context = c;
            self->make_room(c);
        } else {
            auto* c = static_cast<ConnInfo*>(*socket_context);
            if (!c) return;
            {
                std::lock_guard lock(self->conns_mutex);
                if (c->fd >= 0) --self->live;
                self->conns.erase(c);
            }
            delete c;
            *socket_context = nullptr;
        }
    }

    static void on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
        auto* self = static_cast<Impl*>(cls);
        auto* rq = static_cast<RequestState*>(*con_cls);
        if (!rq) return;
        self->set_phase(rq->conn, Phase::Waiting);
        delete rq;
        *con_cls = nullptr;
    }

    static void on_log(void* cls, const char* fmt, va_list ap) {
        char buf[512];
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        std::string line = buf;
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
        auto* self = static_cast<Impl*>(cls);
        const std::string admitted = self->mhd_log.admit("http: " + printable(line));
        if (!admitted.empty()) self->handler.log(admitted);
    }

    MHD_Result queue(MHD_Connection* connection, RequestState* rq, const Response& r) {
        MHD_Response* m = nullptr;
        if (r.file >= 0) {
            m = MHD_create_response_from_fd(static_cast<std::size_t>(r.file_size), r.file);
        } else {
            m = MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
        }
        if (!m) return MHD_NO;
        if (!r.content_type.empty()) MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
        for (const auto& [k, v] : r.headers) MHD_add_response_header(m, k.c_str(), v.c_str());
        if (r.close) MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
        const MHD_Result ok = MHD_queue_response(connection, static_cast<unsigned>(r.status), m);
        MHD_destroy_response(m);
        if (rq) set_phase(rq->conn, Phase::Replying);
        return ok;
    }

    static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                                 const char*, const char* upload_data, size_t* upload_data_size, void** con_cls) {
        auto* self = static_cast<Impl*>(cls);
        auto* rq = static_cast<RequestState*>(*con_cls);
        if (!rq) {
            // The headers are complete.
            rq = new RequestState;
            *con_cls = rq;
            const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
            rq->conn = info ? static_cast<ConnInfo*>(info->socket_context) : nullptr;
            self->set_phase(rq->conn, Phase::Body);
            Request& q = rq->request;
            q.started = Clock::now();
            q.method = method ? method : "";
            q.path = url ? url : "";
            MHD_get_connection_values(
                connection, MHD_HEADER_KIND,
                [](void* cls2, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
                    static_cast<Request*>(cls2)->headers.emplace_back(lower(key), value ? value : "");
                    return MHD_YES;
                },
                &q);
            MHD_get_connection_values(
                connection, MHD_GET_ARGUMENT_KIND,
                [](void* cls2, MHD_ValueKind, const char* key, const char* value) -> MHD_Result {
                    static_cast<Request*>(cls2)->query.emplace_back(key ? key : "", value ? value : "");
                    return MHD_YES;
                },
                &q);
            // Request smuggling: a proxy and this server must never disagree on where a
            // request ends.
            std::optional<Response> early;
            if (q.count("content-length") > 1)
                early = self->handler.refuse(q, 400, "bad_request", "two Content-Length headers: send one");
            else if (q.count("content-length") && q.count("transfer-encoding"))
                early = self->handler.refuse(q, 400, "bad_request",
                                             "Content-Length together with Transfer-Encoding: send one of them");
            else
                early = self->handler.on_headers(q);
            if (early) {
                // A body that is never read leaves the connection unusable.
                const std::string length = q.header("content-length");
                if (q.count("transfer-encoding") || (!length.empty() && length != "0")) early->close = true;
                return self->queue(connection, rq, *early);
            }
            return MHD_YES;
        }
        if (*upload_data_size) {
            if (!rq->too_large) {
                if (rq->request.body.size() + *upload_data_size > self->options.max_body) {
                    rq->too_large = true;
                    rq->request.body.clear();
                } else {
                    rq->request.body.append(upload_data, *upload_data_size);
                }
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (rq->reply) {
            Response r = std::move(*rq->reply);
            rq->reply.reset();
            return self->queue(connection, rq, r);
        }
        if (rq->dispatched) return MHD_YES;  // resumed before the reply was set: not expected
        rq->dispatched = true;
        if (rq->too_large) {
            Response r = self->handler.refuse(rq->request, 413, "too_large",
                                              "body: more than " + std::to_string(self->options.max_body) + " bytes");
            r.close = true;
            return self->queue(connection, rq, r);
        }
        self->set_phase(rq->conn, Phase::Working);
        MHD_suspend_connection(connection);
        self->workers->post([self, rq, connection] {
            Response r;
            try {
                r = self->handler.handle(rq->request);
            } catch (const std::exception& e) {
                r = self->handler.refuse(rq->request, 500, "internal", std::string("the collector failed: ") + e.what());
            } catch (...) {
                r = self->handler.refuse(rq->request, 500, "internal", "the collector failed");
            }
            rq->reply = std::move(r);
            MHD_resume_connection(connection);
        });
        return MHD_YES;
    }
};

Server::Server(Options options, Handler& handler) : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() {
    stop();
    if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
}

namespace {

// Past max_connections, libmicrohttpd still accepts this many more, so that a new
// connection can push out an old one (Impl::make_room) before the old one's close is
// processed; at this limit libmicrohttpd itself closes a new connection at once.
int accept_limit(const Options& o) { return o.max_connections + std::max(64, o.max_connections / 4); }

// Every connection is a descriptor, and so are the listening socket, the database's
// connections, an export's files and the SQLite files: a process that runs out of them
// fails accept() and open() in ways a client sees as a hang. So the limit is checked at
// the start, against RLIMIT_NOFILE (raised to its hard limit if that is enough).
void check_open_files(const Options& o) {
    const rlim_t needed = static_cast<rlim_t>(accept_limit(o)) + 64 + 4 * static_cast<rlim_t>(o.workers);
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= needed) return;
    if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= needed) {
        rlimit raised = lim;
        raised.rlim_cur = needed;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    }
    throw LimitError("[server] max_connections = " + std::to_string(o.max_connections) +
                             " needs up to " + std::to_string(needed) + " open files with " +
                             std::to_string(o.workers) + " threads, and this process may open " +
                             std::to_string(lim.rlim_cur) +
                             " (ulimit -n; LimitNOFILE= in the collector's systemd unit): raise that, or lower "
                             "max_connections");
}

}  // namespace

int Server::bind() {
    auto& o = impl_->options;
    check_open_files(o);
    addrinfo hints{}, *found = nullptr;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    const std::string port = std::to_string(o.port);
    if (getaddrinfo(o.listen.c_str(), port.c_str(), &hints, &found) != 0 || !found)
        throw std::runtime_error("collector: cannot listen on " + o.listen + ": not a numeric address");
    const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const bool ok = fd >= 0 && ::bind(fd, found->ai_addr, found->ai_addrlen) == 0 && ::listen(fd, 1024) == 0;
    const std::string why = std::strerror(errno);
    freeaddrinfo(found);
    if (!ok) {
        if (fd >= 0) ::close(fd);
        throw std::runtime_error("collector: cannot listen on " + o.listen + ":" + port + ": " + why +
                                 " (in use, or not an address of this machine?)");
    }
    impl_->listen_fd = fd;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

void Server::start() {
    Impl& s = *impl_;
    if (s.listen_fd < 0) bind();
    s.workers = std::make_unique<WorkerPool>(s.options.workers);
    s.daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, nullptr,
        nullptr, &Impl::on_request, &s, MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_log, &s,  // first: every message
        MHD_OPTION_LISTEN_SOCKET, s.listen_fd, MHD_OPTION_CONNECTION_TIMEOUT,
        static_cast<unsigned>(s.options.read_timeout.count()), MHD_OPTION_CONNECTION_LIMIT,
        static_cast<unsigned>(accept_limit(s.options)), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        static_cast<size_t>(64 * 1024), MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, &s,
        MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, &s,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
    if (!s.daemon) throw std::runtime_error("collector: the HTTP server (libmicrohttpd) did not start");
    s.reaper = std::thread([&s] { s.reap(); });
}

void Server::wait() {
    std::unique_lock lock(impl_->stop_mutex);
    impl_->stopped_cv.wait(lock, [&] { return impl_->stopped; });
}

void Server::stop() {
    Impl& s = *impl_;
    {
        std::lock_guard lock(s.stop_mutex);
        if (s.stopped) return;
        s.stopped = true;
    }
    s.stopping = true;
    if (s.daemon) {
        const MHD_socket l = MHD_quiesce_daemon(s.daemon);  // no new connections
        (void)l;
        s.workers->join();  // every suspended request gets its reply and is resumed
        MHD_stop_daemon(s.daemon);
        s.daemon = nullptr;
    }
    if (s.reaper.joinable()) s.reaper.join();
    s.tell();
    s.stopped_cv.notify_all();
}

}  // namespace kohtaamo::sync::http
