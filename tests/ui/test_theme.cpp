// Every text/background colour pair the screens use has a contrast of at least 4.5:1
// (WCAG 2.1 AA), computed with the WCAG relative-luminance formula.
#include <catch2/catch.hpp>

#include <cmath>

#include "ui.hpp"

using namespace kohtaamo::ui;

static double luminance(unsigned rgb) {
    auto channel = [](unsigned v) {
        double c = v / 255.0;
        return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel((rgb >> 16) & 0xff) + 0.7152 * channel((rgb >> 8) & 0xff) + 0.0722 * channel(rgb & 0xff);
}

static double contrast(unsigned a, unsigned b) {
    double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

TEST_CASE("the contrast formula matches WCAG's known values") {
    CHECK(contrast(0x000000, 0xFFFFFF) == Approx(21.0));
    CHECK(contrast(0x777777, 0xFFFFFF) == Approx(4.48).epsilon(0.01));
}

TEST_CASE("every text colour on every background it is drawn on reaches 4.5:1") {
    using namespace colour;
    struct Pair {
        const char* what;
        unsigned ink, paper;
    };
    const Pair pairs[] = {
        {"text on the background", kText, kBackground},
        {"muted text on the background", kMuted, kBackground},
        {"primary button label", kOnPrimary, kPrimary},
        {"pressed primary button label", kOnPrimary, kPrimaryDown},
        {"tile label", kText, kTile},
        {"pressed tile label", kText, kTileDown},
        {"picked tile label", kText, kPicked},
        {"secondary button label", kText, kSecondary},
        {"pressed secondary button label", kText, kEdge},
        {"error screen text", kOnPrimary, kError},
        {"the staff screen's responses set aside (error colour as text)", kError, kBackground},
        {"speaker button label", kText, kSpeaker},
        {"pressed speaker button label", kText, kSpeakerDown},
        {"face features on the saddest face", kText, kFace[0]},
        {"face features on the middle face", kText, kFace[2]},
        {"face features on the happiest face", kText, kFace[4]},
        {"year-clock winter month", kText, kSeason[0]},
        {"year-clock spring month", kText, kSeason[1]},
        {"year-clock summer month", kText, kSeason[2]},
        {"year-clock autumn month", kText, kSeason[3]},
        {"year-clock month, pressed", kText, kPicked},
    };
    for (const auto& p : pairs) {
        INFO(p.what << ": " << contrast(p.ink, p.paper));
        CHECK(contrast(p.ink, p.paper) >= 4.5);
    }
}
