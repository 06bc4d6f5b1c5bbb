// emoji.hpp — colour pictures for the emoji a survey names as icons.
//
// Debian's Dear ImGui is built with 16-bit characters, so emoji cannot go through the
// font atlas. Instead each emoji is rasterised once from Noto Color Emoji (a bitmap
// colour font, package fonts-noto-color-emoji) with FreeType into its own SDL texture,
// which ImGui draws as an image (ImTextureID is SDL_Texture* with the SDL_Renderer backend).
// Does: single code point emoji, with or without the U+FE0F presentation selector.
// Does not: ZWJ sequences or flags (they need text shaping); the survey loader refuses them.
#pragma once
#include <map>
#include <string>

#include <SDL.h>

typedef struct FT_LibraryRec_* FT_Library;
typedef struct FT_FaceRec_* FT_Face;

namespace kohtaamo::platform {

class EmojiPictures {
public:
    static constexpr const char* kFontPath = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
    // Throws std::runtime_error when the font cannot be opened.
    explicit EmojiPictures(SDL_Renderer* renderer, const char* font_path = kFontPath);
    ~EmojiPictures();
    EmojiPictures(const EmojiPictures&) = delete;
    EmojiPictures& operator=(const EmojiPictures&) = delete;

    // The texture for `emoji`, made on first use; nullptr if the font has no such picture.
    SDL_Texture* get(const std::string& emoji);
    // True when the font has a picture for `emoji` (for checking surveys at start-up).
    bool has(const std::string& emoji);
    // The side of the font's bitmaps in pixels (109 for Noto Color Emoji).
    int native_size() const;

private:
    SDL_Renderer* renderer_;
    FT_Library ft_ = nullptr;
    FT_Face face_ = nullptr;
    std::map<std::string, SDL_Texture*> cache_;
};

}  // namespace kohtaamo::platform
