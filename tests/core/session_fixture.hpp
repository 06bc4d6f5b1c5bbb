// session_fixture.hpp — a Session on the bundled config, a fresh database and a manual
// clock (2025-11-24T16:00:00Z, a Monday), for the session tests.
#pragma once
#include "session.hpp"
#include "test_support.hpp"

namespace kohtaamo::test {

struct SessionFixture {
    TempDir dir;
    DeviceConfig config = load_device_config(config_dir() / "kiosk.toml");
    std::vector<Survey> surveys = load_surveys(config.surveys_dir, config.languages);
    Clock clock = Clock::manual(1'764'000'000'000);
    Store store{dir / "k.sqlite", clock.wall_ms()};
    Session session{config, surveys, store, clock};

    Rows rows(const std::string& sql) { return query(dir / "k.sqlite", sql); }
    void wait(int ms) {
        clock.advance(ms);
        session.tick();
    }
};

}  // namespace kohtaamo::test
