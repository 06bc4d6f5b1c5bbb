// http.hpp — the collector's HTTP server: GNU libmicrohttpd (Debian's libmicrohttpd-dev),
// event-driven, with deadlines of its own. It knows HTTP and nothing of the protocol: a
// Handler (collector.cpp) decides what each request gets.
//
// Why libmicrohttpd and not cpp-httplib 0.11.4 (measured, sync/PROTOCOL.md "Hostile and
// broken clients"): cpp-httplib holds a pool thread for every open connection, idle or
// not, and its read timeout restarts with every recv(), so ten idle keep-alive clients,
// or one sending a byte a second, hold all eight threads for as long as they like.
// Here a connection that waits costs a socket and a few KB, never a thread:
//  - one epoll thread reads and writes every connection;
//  - a complete request that needs the database is handed to a worker thread (the
//    connection is suspended meanwhile), so a slow database never stops the reading;
//  - deadlines: a request's headers must be complete `header_timeout` after the
//    connection opened or its previous reply went (this is also the idle keep-alive
//    limit); its body `body_timeout` after its headers; no byte moving either way for
//    `read_timeout` ends the connection;
//  - at most `max_connections` are open: past it, a new connection pushes out the one that
//    has waited longest for a request (idle, or its headers unfinished), so a flood of
//    connections that send nothing cannot take every place; one whose request is in is
//    never pushed out (Impl::make_room). The process's open-file limit is checked against
//    it at bind();
//  - libmicrohttpd's messages are written once per kind and 10 s, then counted;
//  - HTTP hygiene before any handler: two Content-Length headers, or Content-Length
//    with Transfer-Encoding, are 400 (request smuggling), as are malformed headers
//    (libmicrohttpd's strict mode);
//  - replies are never compressed (libmicrohttpd does not), and a file is sent from its
//    descriptor (sendfile).
//
// Connection states (ConnInfo::phase), and who moves them:
//   Waiting ─(headers complete: access handler, first call)─▶ Body
//   Body ─(body complete: access handler)─▶ Working (suspended, on a worker)
//   Working ─(the worker's reply: MHD_resume_connection, then queued)─▶ Replying
//   Body ─(the handler answered from the headers alone)─▶ Replying (then closed)
//   Replying ─(reply sent: notify_completed)─▶ Waiting
//   Waiting or Body past its deadline ─(the reaper: shutdown(2))─▶ closed
//   Waiting, the oldest, when a new connection is one past max_connections ─(shutdown(2))─▶ closed
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kohtaamo::sync::http {

struct Request {
    std::string method;
    std::string path;  // without the query
    std::vector<std::pair<std::string, std::string>> headers;  // names in lower case, in order
    std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
    std::string body;
    std::chrono::steady_clock::time_point started;  // when its headers were complete
    std::string principal;  // set by the handler (who asked), for its own log line

    // The first header of that (lower-case) name, or "".
    std::string header(std::string_view name) const;
    std::size_t count(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int file = -1;  // an open file to send instead of `body` (the server closes it)
    std::uint64_t file_size = 0;
    bool close = false;  // close the connection after this reply
};

class Handler {
public:
    virtual ~Handler() = default;
    // The headers are in, the body is not read yet (on the event thread: quick, no
    // database). A response here is sent at once and the connection closed (the body is
    // never read); nullopt reads the body (at most `max_body` bytes) and then calls handle().
    virtual std::optional<Response> on_headers(Request& request) = 0;
    // The whole request, on a worker thread. Must not throw for anything a client sent.
    virtual Response handle(Request& request) = 0;
    // An error reply made by the server itself (a smuggling attempt, a deadline): the
    // handler writes its own error body and log line.
    virtual Response refuse(const Request& request, int status, const std::string& code, const std::string& message) = 0;
    // Server events for the log (already free of control characters).
    virtual void log(const std::string& line) = 0;
};

struct Options {
    std::string listen = "127.0.0.1";
    int port = 0;  // 0: any free port
    int workers = 8;
    std::size_t max_body = 4 << 20;
    std::chrono::seconds header_timeout{10}, body_timeout{60}, read_timeout{30};
    int max_connections = 512;
};

// What Options ask for and this machine does not give (Server::bind): the message names the
// collector.toml key to change.
struct LimitError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Server {
public:
    Server(Options options, Handler& handler);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    // Binds and listens; returns the port (the chosen one when options.port is 0). A
    // client connecting before start() waits in the backlog. LimitError when the process
    // may not open enough files for max_connections.
    int bind();
    // Starts serving (bind() first): the event thread, the workers, the reaper.
    void start();
    // Blocks until stop().
    void wait();
    // Stops accepting, lets the workers finish what they hold, closes every connection.
    // Idempotent.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// `text` with every control character (C0, DEL, C1) and every byte that is not part of
// valid UTF-8 written as \xNN: safe in a log line and in a JSON string.
std::string printable(std::string_view text);

}  // namespace kohtaamo::sync::http
