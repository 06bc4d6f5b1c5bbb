#include "emoji.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "utf8.hpp"

namespace kohtaamo::platform {

namespace {
// The first code point of `s` (the survey loader allows one, plus U+FE0F), or 0.
char32_t first_code_point(const std::string& s) {
    auto cps = utf8_decode(s);
    return cps && !cps->empty() ? cps->front() : 0;
}
}  // namespace

EmojiPictures::EmojiPictures(SDL_Renderer* renderer, const char* font_path) : renderer_(renderer) {
    if (FT_Init_FreeType(&ft_) != 0) throw std::runtime_error("FreeType could not start");
    if (FT_New_Face(ft_, font_path, 0, &face_) != 0) {
        FT_Done_FreeType(ft_);
        throw std::runtime_error(std::string("cannot open the emoji font ") + font_path +
                                 " (Debian package fonts-noto-color-emoji)");
    }
    // Noto Color Emoji is a bitmap font with one strike (109 px): select it.
    if (face_->num_fixed_sizes > 0) FT_Select_Size(face_, 0);
}

EmojiPictures::~EmojiPictures() {
    for (auto& [_, tex] : cache_)
        if (tex) SDL_DestroyTexture(tex);
    FT_Done_Face(face_);
    FT_Done_FreeType(ft_);
}

int EmojiPictures::native_size() const {
    return face_->num_fixed_sizes > 0 ? face_->available_sizes[0].height : 128;
}

bool EmojiPictures::has(const std::string& emoji) {
    char32_t cp = first_code_point(emoji);
    return cp != 0 && FT_Get_Char_Index(face_, cp) != 0;
}

SDL_Texture* EmojiPictures::get(const std::string& emoji) {
    auto it = cache_.find(emoji);
    if (it != cache_.end()) return it->second;
    SDL_Texture* tex = nullptr;
    char32_t cp = first_code_point(emoji);
    if (cp && FT_Load_Char(face_, cp, FT_LOAD_COLOR) == 0 && face_->glyph->bitmap.pixel_mode == FT_PIXEL_MODE_BGRA) {
        const FT_Bitmap& bm = face_->glyph->bitmap;
        int w = static_cast<int>(bm.width), h = static_cast<int>(bm.rows);
        // FreeType gives premultiplied BGRA; SDL's blend mode wants straight RGBA.
        std::vector<unsigned char> rgba(static_cast<std::size_t>(w * h * 4));
        for (int y = 0; y < h; ++y) {
            const unsigned char* row = bm.buffer + y * bm.pitch;
            for (int x = 0; x < w; ++x) {
                const unsigned char* p = row + x * 4;
                unsigned a = p[3];
                unsigned char* o = &rgba[static_cast<std::size_t>((y * w + x) * 4)];
                auto un = [a](unsigned v) { return static_cast<unsigned char>(a ? std::min(255u, v * 255 / a) : 0); };
                o[0] = un(p[2]);
                o[1] = un(p[1]);
                o[2] = un(p[0]);
                o[3] = static_cast<unsigned char>(a);
            }
        }
        tex = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_ABGR8888, SDL_TEXTUREACCESS_STATIC, w, h);
        if (tex) {
            SDL_UpdateTexture(tex, nullptr, rgba.data(), w * 4);
            SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_BLEND);
            SDL_SetTextureScaleMode(tex, SDL_ScaleModeLinear);
        }
    }
    cache_[emoji] = tex;
    return tex;
}

}  // namespace kohtaamo::platform
