#include "pictures.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "media.hpp"

namespace kohtaamo::platform {

Image decode_picture(const std::filesystem::path& file) {
    int w = 0, h = 0, channels = 0;
    if (!stbi_info(file.c_str(), &w, &h, &channels))
        throw std::runtime_error(std::string("not a picture stb_image can read (") + stbi_failure_reason() + ")");
    if (w > kMaxPictureSide || h > kMaxPictureSide)
        throw std::runtime_error(std::to_string(w) + "×" + std::to_string(h) + " pixels; at most " +
                                 std::to_string(kMaxPictureSide) + " on a side");
    unsigned char* pixels = stbi_load(file.c_str(), &w, &h, &channels, 4);
    if (!pixels) throw std::runtime_error(std::string("cannot decode it (") + stbi_failure_reason() + ")");
    Image out;
    const float k = std::min(1.0f, static_cast<float>(kShownSide) / static_cast<float>(std::max(w, h)));
    out.width = std::max(1, static_cast<int>(std::lround(static_cast<float>(w) * k)));
    out.height = std::max(1, static_cast<int>(std::lround(static_cast<float>(h) * k)));
    out.rgba.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height) * 4);
    if (k < 1.0f) {
        stbir_resize_uint8_srgb(pixels, w, h, w * 4, out.rgba.data(), out.width, out.height, out.width * 4, 4, 3, 0);
    } else {
        std::copy(pixels, pixels + out.rgba.size(), out.rgba.begin());
    }
    stbi_image_free(pixels);
    return out;
}

void Pictures::release_textures() {
    for (auto& [_, e] : images_) {
        if (e.texture) SDL_DestroyTexture(e.texture);
        e.texture = nullptr;
    }
}

void Pictures::add(const std::string& file) {
    if (images_.count(file)) return;
    images_[file].image = decode_picture(file);
}

SDL_Texture* Pictures::texture(SDL_Renderer* renderer, const std::string& file, float* aspect) {
    auto it = images_.find(file);
    if (it == images_.end()) return nullptr;
    Entry& e = it->second;
    *aspect = static_cast<float>(e.image.width) / static_cast<float>(e.image.height);
    if (!e.texture) {
        e.texture = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_ABGR8888, SDL_TEXTUREACCESS_STATIC, e.image.width,
                                      e.image.height);
        if (e.texture) {
            SDL_UpdateTexture(e.texture, nullptr, e.image.rgba.data(), e.image.width * 4);
            SDL_SetTextureBlendMode(e.texture, SDL_BLENDMODE_BLEND);
            SDL_SetTextureScaleMode(e.texture, SDL_ScaleModeLinear);
        }
    }
    return e.texture;
}

std::size_t Pictures::bytes() const {
    std::size_t n = 0;
    for (const auto& [_, e] : images_) n += e.image.rgba.size();
    return n;
}

}  // namespace kohtaamo::platform
