// text.cpp — shaping (HarfBuzz), bidi (FriBidi), line breaking and fitting, the glyph atlas
// (FreeType, SDL textures) and drawing through ImDrawList. Design: text.hpp.
#include "text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <SDL.h>
#include <fribidi.h>
#include <hb-ft.h>
#include <hb-ot.h>
#include <hb.h>
#include <stb_image_resize.h>

#include <ft2build.h>
#include FT_FREETYPE_H

namespace kohtaamo::text {

// The shaped text: code points, their levels and clusters, and the runs.
struct Shaper::Shaped {
    struct Run {
        std::uint32_t begin = 0, end = 0;  // code points, logical
        int level = 0;                     // FriBidi embedding level (odd: right to left)
        std::uint8_t face = 0;
        std::vector<Glyph> glyphs;         // visual order within the run; x unset
    };
    std::vector<char32_t> cps;
    std::vector<float> advance;    // em, on the first code point of each cluster
    std::vector<bool> starts;      // a cluster starts at this code point
    std::vector<Run> runs;         // logical order
    bool rtl = false;
    float width = 0;               // em, all on one line
};

namespace {

// UTF-8 to code points; a broken byte becomes U+FFFD (the loaders refuse broken UTF-8,
// but nothing a visitor types or a file holds may crash the layout).
std::vector<char32_t> decode(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        int n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        bool ok = n > 0 && i + static_cast<std::size_t>(n) <= s.size();
        for (int k = 1; ok && k < n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            if ((d & 0xC0) != 0x80) ok = false;
            else cp = (cp << 6) | (d & 0x3F);
        }
        if (!ok) {
            out.push_back(0xFFFD);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += static_cast<std::size_t>(n);
    }
    return out;
}

bool is_space(char32_t c) { return c == ' ' || c == 0x3000 || c == '\t'; }
// A line may break after this character.
bool break_after(char32_t c) { return is_space(c) || c == '-' || c == 0x2013 || c == 0x2014 || c == 0x200B || c == '/'; }

// Joins the previous character's font whatever its script: combining marks, joiners,
// variation selectors, skin-tone modifiers, tags, the keycap.
bool continues(char32_t c) {
    if (c == 0x200C || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0x1F3FB && c <= 0x1F3FF) ||
        (c >= 0xE0020 && c <= 0xE007F) || c == 0x20E3)
        return true;
    const auto gc = hb_unicode_general_category(hb_unicode_funcs_get_default(), c);
    return gc == HB_UNICODE_GENERAL_CATEGORY_NON_SPACING_MARK || gc == HB_UNICODE_GENERAL_CATEGORY_ENCLOSING_MARK ||
           gc == HB_UNICODE_GENERAL_CATEGORY_SPACING_MARK;
}

// Drawn from the colour emoji font: pictographs, regional indicators (flags), and any
// character asked for as emoji (U+FE0F) or as a keycap (U+20E3).
bool wants_emoji(const std::vector<char32_t>& cps, std::size_t i) {
    const char32_t c = cps[i];
    const char32_t next = i + 1 < cps.size() ? cps[i + 1] : 0;
    if (next == 0xFE0E) return false;
    if (next == 0xFE0F || next == 0x20E3) return true;
    return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x1F1E6 && c <= 0x1F1FF);
}

bool has_glyph(const Shaper::Face& f, char32_t c) { return f.ft && FT_Get_Char_Index(f.ft, c) != 0; }

// A key for the caches: the parts, with separators that cannot occur in UTF-8 text.
std::string key_of(std::string_view text, Style style, Direction ui) {
    std::string k;
    k.reserve(text.size() + 3);
    k.push_back(static_cast<char>(0xFF));
    k.push_back(static_cast<char>('0' + static_cast<int>(style)));
    k.push_back(static_cast<char>('0' + static_cast<int>(ui)));
    k.append(text);
    return k;
}

}  // namespace

Shaper::Shaper(const FontFiles& files) {
    if (FT_Init_FreeType(&ft_) != 0) throw std::runtime_error("FreeType could not start");
    const std::string* paths[kFaces] = {&files.regular, &files.arabic, &files.hebrew, &files.emoji,
                                        &files.bold,    &files.arabic_bold, &files.hebrew_bold};
    for (int i = 0; i < kFaces; ++i) {
        Face& f = faces_[i];
        f.file = *paths[i];
        if (FT_New_Face(ft_, f.file.c_str(), 0, &f.ft) != 0) {
            f.ft = nullptr;
            if (i == kRegular || i == kBold) {
                for (auto& g : faces_)
                    if (g.ft) FT_Done_Face(g.ft);
                FT_Done_FreeType(ft_);
                throw std::runtime_error("cannot load the font " + f.file + " (Debian package fonts-dejavu-core)");
            }
            std::fprintf(stderr, "kohtaamo: font %s not found (Debian package %s); its script shows in DejaVu Sans\n",
                         f.file.c_str(), i == kEmoji ? "fonts-noto-color-emoji" : "fonts-noto-core");
            continue;
        }
        hb_blob_t* blob = hb_blob_create_from_file(f.file.c_str());
        hb_face_t* face = hb_face_create(blob, 0);
        hb_blob_destroy(blob);
        f.upem = static_cast<float>(hb_face_get_upem(face));
        f.hb = hb_font_create(face);  // hb_ot functions, scale = upem: advances in font units
        hb_face_destroy(face);
        f.colour = FT_HAS_COLOR(f.ft) && f.ft->num_fixed_sizes > 0;
        if (f.colour) {
            FT_Select_Size(f.ft, 0);
            f.strike = static_cast<int>(f.ft->available_sizes[0].y_ppem / 64);
        }
    }
    // ImGui's sizes: ascent - descent of the primary font is the size (stb_truetype's
    // ScaleForPixelHeight), so a kiosk size means what it meant before shaping.
    const FT_Face r = faces_[kRegular].ft;
    const float extent = static_cast<float>(r->ascender - r->descender);
    em_per_size_ = static_cast<float>(r->units_per_EM) / extent;
    ascent_per_size_ = static_cast<float>(r->ascender) / extent;
    buffer_ = hb_buffer_create();
    for (int b = 0; b < 2; ++b) {
        ellipsis_[b] = line("…", b ? Style::Bold : Style::Regular);
        hyphen_[b] = line("-", b ? Style::Bold : Style::Regular);
    }
}

Shaper::~Shaper() {
    if (buffer_) hb_buffer_destroy(buffer_);
    for (auto& f : faces_) {
        if (f.hb) hb_font_destroy(f.hb);
        if (f.ft) FT_Done_Face(f.ft);
    }
    FT_Done_FreeType(ft_);
}

std::shared_ptr<Shaper::Shaped> Shaper::shape(std::string_view text, Style style, Direction ui) {
    ++shaped_count_;
    auto out = std::make_shared<Shaped>();
    Shaped& s = *out;
    s.cps = decode(text);
    const std::size_t n = s.cps.size();
    s.advance.assign(n, 0.0f);
    s.starts.assign(n, false);
    if (n == 0) return out;

    // Levels (UAX #9): the paragraph's direction from its first strong letter, else the UI's.
    std::vector<FriBidiCharType> types(n);
    std::vector<FriBidiBracketType> brackets(n);
    std::vector<FriBidiLevel> levels(n);
    const auto* str = reinterpret_cast<const FriBidiChar*>(s.cps.data());
    fribidi_get_bidi_types(str, static_cast<FriBidiStrIndex>(n), types.data());
    fribidi_get_bracket_types(str, static_cast<FriBidiStrIndex>(n), types.data(), brackets.data());
    FriBidiParType base = ui == Direction::Rtl ? FRIBIDI_PAR_WRTL : FRIBIDI_PAR_WLTR;
    if (fribidi_get_par_embedding_levels_ex(types.data(), brackets.data(), static_cast<FriBidiStrIndex>(n), &base,
                                            levels.data()) == 0)
        std::fill(levels.begin(), levels.end(), static_cast<FriBidiLevel>(ui == Direction::Rtl ? 1 : 0));
    s.rtl = FRIBIDI_IS_RTL(base);

    // Scripts: Common and Inherited characters take the script around them.
    hb_unicode_funcs_t* uf = hb_unicode_funcs_get_default();
    std::vector<hb_script_t> script(n);
    for (std::size_t i = 0; i < n; ++i) script[i] = hb_unicode_script(uf, s.cps[i]);
    auto weak = [](hb_script_t sc) {
        return sc == HB_SCRIPT_COMMON || sc == HB_SCRIPT_INHERITED || sc == HB_SCRIPT_UNKNOWN;
    };
    hb_script_t last = HB_SCRIPT_INVALID;
    for (std::size_t i = 0; i < n; ++i) {
        if (!weak(script[i])) last = script[i];
        else if (last != HB_SCRIPT_INVALID) script[i] = last;
    }
    last = HB_SCRIPT_INVALID;
    for (std::size_t i = n; i-- > 0;) {
        if (!weak(script[i])) last = script[i];
        else if (last != HB_SCRIPT_INVALID) script[i] = last;
    }
    for (auto& sc : script)
        if (weak(sc)) sc = HB_SCRIPT_COMMON;  // a text of no script at all (emoji, digits): one run

    // Fonts, per character.
    const bool bold = style == Style::Bold;
    const std::uint8_t base_face = bold ? kBold : kRegular;
    const std::uint8_t arabic = bold && faces_[kArabicBold].ft ? kArabicBold : kArabic;
    const std::uint8_t hebrew = bold && faces_[kHebrewBold].ft ? kHebrewBold : kHebrew;
    std::vector<std::uint8_t> face(n, base_face);
    for (std::size_t i = 0; i < n; ++i) {
        const char32_t c = s.cps[i];
        const bool common = weak(hb_unicode_script(uf, c));
        if (i > 0 && continues(c)) {
            face[i] = face[i - 1];
            continue;
        }
        if (wants_emoji(s.cps, i) && has_glyph(faces_[kEmoji], c)) {
            face[i] = kEmoji;
            continue;
        }
        if (common && i > 0 && face[i - 1] != kEmoji && has_glyph(faces_[face[i - 1]], c)) {
            face[i] = face[i - 1];  // spaces and digits stay in the run around them
            continue;
        }
        std::uint8_t order[4] = {base_face, arabic, hebrew, kEmoji};
        if (script[i] == HB_SCRIPT_ARABIC) std::swap(order[0], order[1]);
        else if (script[i] == HB_SCRIPT_HEBREW) std::swap(order[0], order[2]);
        face[i] = base_face;  // nothing has it: DejaVu's missing-glyph box
        for (std::uint8_t candidate : order)
            if (has_glyph(faces_[candidate], c)) {
                face[i] = candidate;
                break;
            }
    }

    // Runs of one level, one script and one font, each shaped by HarfBuzz with the whole
    // text as context (so that letters join across a run's edge as they should).
    std::size_t i = 0;
    while (i < n) {
        std::size_t j = i + 1;
        while (j < n && levels[j] == levels[i] && face[j] == face[i] && script[j] == script[i]) ++j;
        Shaped::Run run;
        run.begin = static_cast<std::uint32_t>(i);
        run.end = static_cast<std::uint32_t>(j);
        run.level = levels[i];
        run.face = face[i];
        const Face& f = faces_[run.face];
        hb_buffer_clear_contents(buffer_);
        hb_buffer_add_codepoints(buffer_, reinterpret_cast<const hb_codepoint_t*>(s.cps.data()), static_cast<int>(n),
                                 static_cast<unsigned>(i), static_cast<int>(j - i));
        hb_buffer_set_direction(buffer_, (run.level & 1) ? HB_DIRECTION_RTL : HB_DIRECTION_LTR);
        hb_buffer_set_script(buffer_, script[i]);
        hb_buffer_set_language(buffer_, hb_language_get_default());
        if (f.hb) hb_shape(f.hb, buffer_, nullptr, 0);
        unsigned count = 0;
        const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer_, &count);
        const hb_glyph_position_t* pos = hb_buffer_get_glyph_positions(buffer_, &count);
        run.glyphs.reserve(count);
        for (unsigned g = 0; g < count; ++g) {
            Glyph gl;
            gl.id = f.hb ? info[g].codepoint : 0;
            gl.face = run.face;
            gl.cluster = info[g].cluster;
            gl.advance = static_cast<float>(pos[g].x_advance) / f.upem;
            gl.dx = static_cast<float>(pos[g].x_offset) / f.upem;
            gl.dy = static_cast<float>(pos[g].y_offset) / f.upem;
            run.glyphs.push_back(gl);
            if (gl.cluster < n) {
                s.advance[gl.cluster] += gl.advance;
                s.starts[gl.cluster] = true;
            }
            s.width += gl.advance;
        }
        s.runs.push_back(std::move(run));
        i = j;
    }
    return out;
}

const Shaper::Shaped& Shaper::shaped(std::string_view text, Style style, Direction ui) {
    const std::string key = key_of(text, style, ui);
    auto it = shaped_.find(key);
    if (it == shaped_.end()) it = shaped_.emplace(key, ShapedEntry{shape(text, style, ui), 0}).first;
    it->second.used = frame_;
    return *it->second.s;
}

Line Shaper::make_line(const Shaped& s, std::uint32_t begin, std::uint32_t end) const {
    // The runs' parts on this line, in logical order, then ordered visually (UAX #9 L2):
    // from the highest level down to the lowest odd one, reverse every sequence of parts
    // at that level or higher. HarfBuzz already gave each part's glyphs in visual order.
    struct Part {
        int level;
        std::vector<Glyph> glyphs;
    };
    std::vector<Part> parts;
    int highest = 0, lowest_odd = 1000;
    for (const auto& run : s.runs) {
        if (run.end <= begin || run.begin >= end) continue;
        Part p{run.level, {}};
        for (const auto& g : run.glyphs)
            if (g.cluster >= begin && g.cluster < end) p.glyphs.push_back(g);
        if (p.glyphs.empty()) continue;
        highest = std::max(highest, run.level);
        if (run.level & 1) lowest_odd = std::min(lowest_odd, run.level);
        parts.push_back(std::move(p));
    }
    for (int level = highest; level >= lowest_odd && level > 0; --level) {
        std::size_t k = 0;
        while (k < parts.size()) {
            if (parts[k].level < level) {
                ++k;
                continue;
            }
            std::size_t e = k;
            while (e < parts.size() && parts[e].level >= level) ++e;
            std::reverse(parts.begin() + static_cast<std::ptrdiff_t>(k), parts.begin() + static_cast<std::ptrdiff_t>(e));
            k = e;
        }
    }
    Line line;
    line.begin = begin;
    line.end = end;
    float x = 0;
    for (auto& p : parts)
        for (auto& g : p.glyphs) {
            g.x = x;
            x += g.advance;
            line.glyphs.push_back(g);
        }
    line.width = x;
    return line;
}

Line Shaper::line(std::string_view text, Style style, Direction ui) {
    const Shaped& s = shaped(text, style, ui);
    return make_line(s, 0, static_cast<std::uint32_t>(s.cps.size()));
}

bool Shaper::rtl(std::string_view text, Direction ui) { return shaped(text, Style::Regular, ui).rtl; }

float Shaper::width(std::string_view text, Style style, float size, Direction ui) {
    return shaped(text, style, ui).width * em(size);
}

namespace {

struct Span {
    std::uint32_t begin, end;
    float width;          // em, without trailing spaces
    bool hyphen = false;  // a word broken here: a hyphen ends the line
};

// A word of these scripts broken between lines gets a hyphen (Arabic and Hebrew do not
// hyphenate).
bool hyphenates(char32_t c) {
    const hb_script_t sc = hb_unicode_script(hb_unicode_funcs_get_default(), c);
    return sc == HB_SCRIPT_LATIN || sc == HB_SCRIPT_CYRILLIC || sc == HB_SCRIPT_GREEK;
}

// Greedy line breaking of `s` into lines of at most `max_em`: at spaces (and after a
// hyphen or dash, and at a line feed); a word wider than a line is broken between clusters
// (`*broke_word` says so). Stops after `max_lines` lines; `*rest` tells whether text was left over.
std::vector<Span> break_lines(const std::vector<char32_t>& cps, const std::vector<float>& adv,
                              const std::vector<bool>& starts, float max_em, std::size_t max_lines, bool* rest,
                              bool* broke_word, float hyphen_em) {
    std::vector<Span> out;
    const auto n = static_cast<std::uint32_t>(cps.size());
    std::uint32_t i = 0;
    *rest = false;
    *broke_word = false;
    auto trimmed = [&](std::uint32_t b, std::uint32_t e) {
        while (e > b && is_space(cps[e - 1])) --e;
        float w = 0;
        for (std::uint32_t k = b; k < e; ++k) w += adv[k];
        return Span{b, e, w, false};
    };
    while (i < n) {
        if (out.size() == max_lines) {
            *rest = true;
            break;
        }
        const std::uint32_t b = i;
        float w = 0;
        std::uint32_t last_break = 0;  // a break after cps[last_break - 1]; 0 = none yet
        std::uint32_t e = n;
        bool hard = false;
        for (std::uint32_t j = b; j < n; ++j) {
            const char32_t c = cps[j];
            if (c == '\n') {
                e = j;
                hard = true;
                break;
            }
            if (j > b && !is_space(c) && w + adv[j] > max_em + 1e-4f) {
                if (last_break > b) {
                    e = last_break;
                } else {
                    // No space on this line: break between clusters, at least one on the line.
                    *broke_word = true;
                    e = j;
                    while (e > b && !starts[e]) --e;
                    if (e == b) {
                        e = b + 1;
                        while (e < n && !starts[e]) ++e;
                    }
                    // Not one or two letters alone on the next line ("Leipomine-n"): take
                    // back up to three clusters from this line when it keeps three.
                    auto clusters = [&](std::uint32_t from, std::uint32_t to) {
                        int c = 0;
                        for (std::uint32_t q = from; q < to; ++q) c += starts[q];
                        return c;
                    };
                    std::uint32_t word_end = e;
                    while (word_end < n && !is_space(cps[word_end]) && !break_after(cps[word_end])) ++word_end;
                    while (clusters(e, word_end) < 3 && clusters(b, e) > 3) {
                        --e;
                        while (e > b && !starts[e]) --e;
                    }
                }
                break;
            }
            w += adv[j];
            if (break_after(c)) last_break = j + 1;
        }
        Span sp = trimmed(b, e);
        if (e < n && e > b + 1 && !is_space(cps[e]) && !is_space(cps[e - 1]) && !break_after(cps[e - 1]) && last_break <= b &&
            hyphenates(cps[e - 1]) && hyphen_em > 0) {
            // Room for the hyphen: one cluster fewer on the line if need be.
            while (sp.end > b + 1 && sp.width + hyphen_em > max_em + 1e-4f) {
                std::uint32_t k = sp.end - 1;
                while (k > b && !starts[k]) --k;
                if (k <= b) break;
                for (std::uint32_t q = k; q < sp.end; ++q) sp.width -= adv[q];
                sp.end = k;
            }
            e = sp.end;
            sp.hyphen = true;
        }
        out.push_back(sp);
        i = hard ? e + 1 : e;
        while (!hard && i < n && is_space(cps[i])) ++i;
    }
    return out;
}

}  // namespace

const Block& Shaper::layout(std::string_view text, Style style, const Fit& fit, Direction ui) {
    char params[96];
    std::snprintf(params, sizeof params, "%.2f|%.2f|%.1f|%.1f|%d|%d\xFE", fit.size, fit.floor, fit.width, fit.height,
                  fit.max_lines, fit.prefer_one_line ? 1 : 0);
    std::string key = params;
    key += key_of(text, style, ui);
    auto it = blocks_.find(key);
    if (it != blocks_.end()) {
        it->second.used = frame_;
        return it->second.b;
    }
    const Shaped& s = shaped(text, style, ui);
    Block b;
    b.rtl = s.rtl;
    const float floor = std::min(fit.floor > 0 ? fit.floor : fit.size, fit.size);
    auto allowed = [&](float size) {
        int lines = std::max(1, fit.max_lines);
        if (fit.height > 0)
            lines = std::min(lines, std::max(1, static_cast<int>((fit.height + 0.5f) / line_height(size))));
        return static_cast<std::size_t>(lines);
    };
    auto finish = [&](float size, std::vector<Line> lines) -> const Block& {
        b.size = size;
        b.line_height = line_height(size);
        b.lines = std::move(lines);
        b.width = 0;
        for (const auto& l : b.lines) b.width = std::max(b.width, l.width * em(size));
        b.height = b.line_height * static_cast<float>(b.lines.size());
        return blocks_.emplace(std::move(key), BlockEntry{std::move(b), frame_}).first->second.b;
    };
    const auto n = static_cast<std::uint32_t>(s.cps.size());
    if (fit.width <= 0 || n == 0) return finish(fit.size, {make_line(s, 0, n)});
    const Line& hy = hyphen_[style == Style::Bold ? 1 : 0];
    // A line of spans, a hyphen after a broken word (left to right: a right-to-left
    // paragraph's words are Arabic or Hebrew, which do not hyphenate).
    auto lines_of = [&](const std::vector<Span>& spans) {
        std::vector<Line> lines;
        for (const auto& sp : spans) {
            Line l = make_line(s, sp.begin, sp.end);
            if (sp.hyphen && !s.rtl) {
                for (Glyph g : hy.glyphs) {
                    g.x += l.width;
                    l.glyphs.push_back(g);
                }
                l.width += hy.width;
            }
            lines.push_back(std::move(l));
        }
        return lines;
    };
    const float hyphen_em = s.rtl ? 0.0f : hy.width;

    // 1. One line, at full size or a little smaller.
    if (fit.prefer_one_line && std::none_of(s.cps.begin(), s.cps.end(), [](char32_t c) { return c == '\n'; }))
        for (float k = 1.0f; k >= 0.799f; k -= 0.05f) {
            const float size = fit.size * k;
            if (size < floor - 0.01f) break;
            if (s.width * em(size) <= fit.width) return finish(size, {make_line(s, 0, n)});
        }
    // 2. Wrapped, shrinking to the floor.
    std::vector<float> sizes;
    for (float k = 1.0f; fit.size * k > floor + 0.01f; k -= 0.05f) sizes.push_back(fit.size * k);
    sizes.push_back(floor);
    for (float size : sizes) {
        bool rest = false, broke = false;
        const auto spans =
            break_lines(s.cps, s.advance, s.starts, fit.width / em(size), allowed(size), &rest, &broke, hyphen_em);
        if (rest || (broke && size > floor + 0.01f)) continue;  // a word cut in two only at the floor
        bool wide = false;
        for (const auto& sp : spans) wide = wide || (sp.width + (sp.hyphen ? hyphen_em : 0)) * em(size) > fit.width + 0.5f;
        if (wide) continue;
        return finish(size, lines_of(spans));
    }
    // 3. At the floor: the lines that fit, the last one cut to make room for "…".
    bool rest = false, broke = false;
    const float max_em = fit.width / em(floor);
    auto spans = break_lines(s.cps, s.advance, s.starts, max_em, allowed(floor), &rest, &broke, hyphen_em);
    const Line& ell = ellipsis_[style == Style::Bold ? 1 : 0];
    Span& last = spans.back();
    last.hyphen = false;  // "…" ends it instead
    std::uint32_t e = last.end;
    float w = last.width;
    while (e > last.begin && w + ell.width > max_em) {
        --e;
        w -= s.advance[e];
        while (e > last.begin && !s.starts[e]) {
            --e;
            w -= s.advance[e];
        }
    }
    while (e > last.begin && is_space(s.cps[e - 1])) w -= s.advance[--e];
    last.end = e;
    std::vector<Line> lines = lines_of(spans);
    // "…" at the end of the reading: the right for a left-to-right paragraph, else the left.
    Line& l = lines.back();
    std::vector<Glyph> dots = ell.glyphs;
    if (s.rtl) {
        for (auto& g : l.glyphs) g.x += ell.width;
        l.glyphs.insert(l.glyphs.begin(), dots.begin(), dots.end());
    } else {
        for (auto& g : dots) g.x += l.width;
        l.glyphs.insert(l.glyphs.end(), dots.begin(), dots.end());
    }
    l.width += ell.width;
    b.truncated = true;
    return finish(floor, std::move(lines));
}

void Shaper::begin_frame() {
    ++frame_;
    // Texts and layouts not used in the last two frames go once there are many (a
    // visitor typing makes a new text per key; a screen in use touches all its own).
    if (blocks_.size() > 4000)
        for (auto it = blocks_.begin(); it != blocks_.end();)
            it = it->second.used + 2 < frame_ ? blocks_.erase(it) : std::next(it);
    if (shaped_.size() > 2000)
        for (auto it = shaped_.begin(); it != shaped_.end();)
            it = it->second.used + 2 < frame_ ? shaped_.erase(it) : std::next(it);
}

// --- the atlas ---------------------------------------------------------------------------

GlyphAtlas::GlyphAtlas(SDL_Renderer* renderer, Shaper& shaper) : renderer_(renderer), shaper_(shaper) {}

GlyphAtlas::~GlyphAtlas() { clear(); }

void GlyphAtlas::clear() {
    for (auto& p : pages_)
        if (p.texture) SDL_DestroyTexture(p.texture);
    pages_.clear();
    entries_.clear();
}

void GlyphAtlas::begin_frame() {
    if (static_cast<int>(pages_.size()) > kMaxPages) clear();
}

bool GlyphAtlas::place(int w, int h, int* page, int* x, int* y) {
    auto try_page = [&](Page& p) {
        for (auto& s : p.shelves)
            if (h <= s.height && h * 10 >= s.height * 7 && s.x + w <= kPage) {
                *x = s.x;
                *y = s.y;
                s.x += w + 1;
                return true;
            }
        if (p.bottom + h > kPage || w > kPage) return false;
        p.shelves.push_back(Shelf{p.bottom, h, w + 1});
        *x = 0;
        *y = p.bottom;
        p.bottom += h + 1;
        return true;
    };
    if (!pages_.empty() && try_page(pages_.back())) {
        *page = static_cast<int>(pages_.size()) - 1;
        return true;
    }
    Page p;
    p.texture = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_ABGR8888, SDL_TEXTUREACCESS_STATIC, kPage, kPage);
    if (!p.texture) return false;
    SDL_SetTextureBlendMode(p.texture, SDL_BLENDMODE_BLEND);
    // Glyphs are drawn at the size they were rasterised, on whole pixels: a plain copy.
    SDL_SetTextureScaleMode(p.texture, SDL_ScaleModeNearest);
    std::vector<unsigned char> zero(static_cast<std::size_t>(kPage) * kPage * 4, 0);
    SDL_UpdateTexture(p.texture, nullptr, zero.data(), kPage * 4);
    pages_.push_back(std::move(p));
    *page = static_cast<int>(pages_.size()) - 1;
    return try_page(pages_.back());
}

const GlyphAtlas::Entry& GlyphAtlas::get(int face_index, std::uint32_t glyph, int em_px) {
    em_px = std::clamp(em_px, 1, 512);
    const std::uint64_t key = (static_cast<std::uint64_t>(face_index) << 48) | (static_cast<std::uint64_t>(em_px) << 32) | glyph;
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    Entry e;
    const Shaper::Face& f = shaper_.face(face_index);
    std::vector<unsigned char> rgba;
    int w = 0, h = 0;
    if (f.ft && f.colour) {
        // A colour bitmap (emoji): the font's strike, scaled to the em.
        if (FT_Load_Glyph(f.ft, glyph, FT_LOAD_COLOR) == 0 && f.ft->glyph->bitmap.pixel_mode == FT_PIXEL_MODE_BGRA) {
            const FT_Bitmap& bm = f.ft->glyph->bitmap;
            const float k = static_cast<float>(em_px) / static_cast<float>(std::max(1, f.strike));
            w = std::max(1, static_cast<int>(std::lround(static_cast<float>(bm.width) * k)));
            h = std::max(1, static_cast<int>(std::lround(static_cast<float>(bm.rows) * k)));
            std::vector<unsigned char> scaled(static_cast<std::size_t>(w * h * 4));
            stbir_resize_uint8(bm.buffer, static_cast<int>(bm.width), static_cast<int>(bm.rows), bm.pitch, scaled.data(), w,
                               h, w * 4, 4);
            rgba.resize(scaled.size());
            for (std::size_t p = 0; p < scaled.size(); p += 4) {
                // premultiplied BGRA → straight RGBA
                const unsigned a = scaled[p + 3];
                auto un = [a](unsigned v) { return static_cast<unsigned char>(a ? std::min(255u, v * 255 / a) : 0); };
                rgba[p] = un(scaled[p + 2]);
                rgba[p + 1] = un(scaled[p + 1]);
                rgba[p + 2] = un(scaled[p]);
                rgba[p + 3] = static_cast<unsigned char>(a);
            }
            e.left = static_cast<float>(f.ft->glyph->bitmap_left) * k;
            e.top = static_cast<float>(f.ft->glyph->bitmap_top) * k;
            e.colour = true;
        }
    } else if (f.ft) {
        FT_Set_Char_Size(f.ft, 0, static_cast<FT_F26Dot6>(em_px) * 64, 72, 72);
        if (FT_Load_Glyph(f.ft, glyph, FT_LOAD_RENDER | FT_LOAD_TARGET_LIGHT) == 0) {
            const FT_Bitmap& bm = f.ft->glyph->bitmap;
            w = static_cast<int>(bm.width);
            h = static_cast<int>(bm.rows);
            rgba.assign(static_cast<std::size_t>(w * h * 4), 255);
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x)
                    rgba[static_cast<std::size_t>((y * w + x) * 4 + 3)] = bm.buffer[y * bm.pitch + x];
            e.left = static_cast<float>(f.ft->glyph->bitmap_left);
            e.top = static_cast<float>(f.ft->glyph->bitmap_top);
        }
    }
    int page = -1, x = 0, y = 0;
    if (w > 0 && h > 0 && w <= kPage && h <= kPage && place(w, h, &page, &x, &y)) {
        SDL_Rect r{x, y, w, h};
        SDL_UpdateTexture(pages_[static_cast<std::size_t>(page)].texture, &r, rgba.data(), w * 4);
        e.page = page;
        e.w = static_cast<float>(w);
        e.h = static_cast<float>(h);
        const float inv = 1.0f / static_cast<float>(kPage);
        e.uv0 = ImVec2(static_cast<float>(x) * inv, static_cast<float>(y) * inv);
        e.uv1 = ImVec2(static_cast<float>(x + w) * inv, static_cast<float>(y + h) * inv);
    }
    return entries_.emplace(key, e).first->second;
}

// --- drawing -----------------------------------------------------------------------------

Typesetter::Typesetter(SDL_Renderer* renderer, const FontFiles& files) : shaper_(files), atlas_(renderer, shaper_) {}

float Typesetter::line_x(const Block& b, const Line& l, ImVec2 pos, float box_width, Align align) const {
    const float w = l.width * shaper_.em(b.size);
    switch (align) {
        case Align::Left: return pos.x;
        case Align::Centre: return std::floor(pos.x + (box_width - w) / 2);
        case Align::Right: return std::floor(pos.x + box_width - w);
    }
    return pos.x;
}

void Typesetter::draw(ImDrawList* dl, const Block& b, ImVec2 pos, float box_width, Align align, ImU32 colour) {
    // Glyphs are rasterised at a whole-pixel em and drawn 1:1 on whole pixels (the
    // software renderer then copies them instead of scaling); the pen positions keep the
    // exact em, so a line's width is what the layout measured.
    const float em = shaper_.em(b.size);
    const int em_px = std::max(1, static_cast<int>(std::lround(em)));
    const ImU32 white = (colour & IM_COL32_A_MASK) | 0x00FFFFFF;
    int current = -1;
    for (std::size_t li = 0; li < b.lines.size(); ++li) {
        const Line& l = b.lines[li];
        const float x0 = line_x(b, l, pos, box_width, align);
        const float baseline = std::round(pos.y + shaper_.ascent(b.size) + b.line_height * static_cast<float>(li));
        for (const Glyph& g : l.glyphs) {
            const GlyphAtlas::Entry& e = atlas_.get(g.face, g.id, em_px);
            if (e.page < 0) continue;
            if (e.page != current) {
                if (current >= 0) dl->PopTextureID();
                dl->PushTextureID(static_cast<ImTextureID>(atlas_.page(e.page)));
                current = e.page;
            }
            const float gx = std::round(x0 + (g.x + g.dx) * em + e.left);
            const float gy = std::round(baseline - g.dy * em - e.top);
            dl->PrimReserve(6, 4);
            dl->PrimRectUV(ImVec2(gx, gy), ImVec2(gx + e.w, gy + e.h), e.uv0, e.uv1, e.colour ? white : colour);
        }
    }
    if (current >= 0) dl->PopTextureID();
}

ImVec2 Typesetter::end_of_text(const Block& b, ImVec2 pos, float box_width, Align align) const {
    if (b.lines.empty()) return pos;
    const Line& l = b.lines.back();
    const float x0 = line_x(b, l, pos, box_width, align);
    const float y = pos.y + b.line_height * static_cast<float>(b.lines.size() - 1);
    return ImVec2(b.rtl ? x0 : x0 + l.width * shaper_.em(b.size), y);
}

}  // namespace kohtaamo::text
