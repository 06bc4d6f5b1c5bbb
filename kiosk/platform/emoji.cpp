#include "emoji.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <hb.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "utf8.hpp"

namespace kohtaamo::platform {

EmojiFont::EmojiFont(const char* font_path) {
    if (FT_Init_FreeType(&ft_) != 0) throw std::runtime_error("FreeType could not start");
    if (FT_New_Face(ft_, font_path, 0, &face_) != 0) {
        FT_Done_FreeType(ft_);
        throw std::runtime_error(std::string("cannot open the emoji font ") + font_path +
                                 " (Debian package fonts-noto-color-emoji)");
    }
    // Noto Color Emoji is a bitmap font with one strike (109 px): select it.
    if (face_->num_fixed_sizes > 0) FT_Select_Size(face_, 0);
    hb_blob_t* blob = hb_blob_create_from_file(font_path);
    hb_face_t* face = hb_face_create(blob, 0);
    hb_ = hb_font_create(face);
    hb_face_destroy(face);
    hb_blob_destroy(blob);
}

EmojiFont::~EmojiFont() {
    hb_font_destroy(hb_);
    FT_Done_Face(face_);
    FT_Done_FreeType(ft_);
}

int EmojiFont::native_size() const {
    return face_->num_fixed_sizes > 0 ? face_->available_sizes[0].height : 128;
}

EmojiFont::Shape EmojiFont::shape(const std::string& emoji) const {
    Shape out;
    const auto cps = utf8_decode(emoji);
    if (!cps || cps->empty()) return out;
    hb_buffer_t* b = hb_buffer_create();
    hb_buffer_add_codepoints(b, reinterpret_cast<const hb_codepoint_t*>(cps->data()), static_cast<int>(cps->size()), 0,
                             static_cast<int>(cps->size()));
    hb_buffer_set_direction(b, HB_DIRECTION_LTR);
    hb_buffer_set_script(b, HB_SCRIPT_COMMON);
    hb_shape(hb_, b, nullptr, 0);
    unsigned n = 0;
    const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(b, &n);
    out.glyphs = static_cast<int>(n);
    for (unsigned i = 0; i < n; ++i) out.missing += info[i].codepoint == 0;
    if (n > 0) out.glyph = info[0].codepoint;
    hb_buffer_destroy(b);
    return out;
}

std::optional<std::uint32_t> EmojiFont::picture(const std::string& emoji) const {
    const Shape s = shape(emoji);
    if (s.glyphs != 1 || s.missing != 0) return std::nullopt;
    if (FT_Load_Glyph(face_, s.glyph, FT_LOAD_COLOR) != 0 || face_->glyph->bitmap.pixel_mode != FT_PIXEL_MODE_BGRA)
        return std::nullopt;
    return s.glyph;
}

EmojiPictures::EmojiPictures(SDL_Renderer* renderer, const EmojiFont& font) : renderer_(renderer), font_(font) {}

EmojiPictures::~EmojiPictures() {
    for (auto& [_, tex] : cache_)
        if (tex) SDL_DestroyTexture(tex);
}

SDL_Texture* EmojiPictures::get(const std::string& emoji) {
    auto it = cache_.find(emoji);
    if (it != cache_.end()) return it->second;
    SDL_Texture* tex = nullptr;
    FT_Face face = font_.face();
    if (auto glyph = font_.picture(emoji);
        glyph && FT_Load_Glyph(face, *glyph, FT_LOAD_COLOR) == 0 && face->glyph->bitmap.pixel_mode == FT_PIXEL_MODE_BGRA) {
        const FT_Bitmap& bm = face->glyph->bitmap;
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
