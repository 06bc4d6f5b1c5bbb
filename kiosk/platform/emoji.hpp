// emoji.hpp — colour pictures for the emoji a survey names as icons.
//
// An icon is "one picture": HarfBuzz shapes the icon's code points against Noto Color Emoji
// (a bitmap colour font, package fonts-noto-color-emoji) and the font's own rules (its GSUB
// ligatures) decide what is one picture: a single emoji with or without U+FE0F, a skin-tone
// modifier sequence (👋🏽), a ZWJ family (👨‍👩‍👧), a flag (🇫🇮, 🏴 with tags), a keycap (1️⃣).
// EmojiFont answers that without SDL (the start-up check, kiosk_scene.hpp check_media);
// EmojiPictures rasterises that one glyph once with FreeType into its own SDL texture,
// which ImGui draws as an image (ImTextureID is SDL_Texture* with the SDL_Renderer backend).
// Does not: draw emoji inside running text (text.hpp does, from the same font).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <SDL.h>

typedef struct FT_LibraryRec_* FT_Library;
typedef struct FT_FaceRec_* FT_Face;
typedef struct hb_font_t hb_font_t;

namespace kohtaamo::platform {

class EmojiFont {
public:
    static constexpr const char* kFontPath = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
    // Throws std::runtime_error when the font cannot be opened.
    explicit EmojiFont(const char* font_path = kFontPath);
    ~EmojiFont();
    EmojiFont(const EmojiFont&) = delete;
    EmojiFont& operator=(const EmojiFont&) = delete;

    // How many glyphs the font draws `emoji` as, and how many of them it has a picture for.
    struct Shape {
        int glyphs = 0;
        int missing = 0;       // glyphs the font has no picture for (code points it lacks)
        std::uint32_t glyph = 0;  // the first glyph
    };
    Shape shape(const std::string& emoji) const;
    // The glyph of `emoji` when the font draws it as exactly one picture; nullopt otherwise.
    std::optional<std::uint32_t> picture(const std::string& emoji) const;
    FT_Face face() const { return face_; }
    // The side of the font's bitmaps in pixels (109 for Noto Color Emoji).
    int native_size() const;

private:
    FT_Library ft_ = nullptr;
    FT_Face face_ = nullptr;
    hb_font_t* hb_ = nullptr;
};

class EmojiPictures {
public:
    EmojiPictures(SDL_Renderer* renderer, const EmojiFont& font);
    ~EmojiPictures();
    EmojiPictures(const EmojiPictures&) = delete;
    EmojiPictures& operator=(const EmojiPictures&) = delete;

    // The texture for `emoji`, made on first use; nullptr if it is not one picture.
    SDL_Texture* get(const std::string& emoji);
    // True when the font draws `emoji` as one picture.
    bool has(const std::string& emoji) const { return font_.picture(emoji).has_value(); }
    int native_size() const { return font_.native_size(); }

private:
    SDL_Renderer* renderer_;
    const EmojiFont& font_;
    std::map<std::string, SDL_Texture*> cache_;
};

}  // namespace kohtaamo::platform
