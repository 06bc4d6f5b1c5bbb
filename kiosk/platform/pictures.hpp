// pictures.hpp — the centre's own pictures: PNG and JPEG files from the assets folder that
// stand wherever an emoji icon can (choices, survey icons, year-clock themes, news items).
//
// Each file is decoded once with stb_image (Debian's libstb), at start-up when the kiosk
// checks its configuration (kiosk_scene.hpp check_media: a file that does not decode or is
// larger than kMaxPictureSide pixels on a side stops the kiosk with the survey file's line),
// and scaled down so that its longer side is at most kShownSide pixels — what the largest
// picture tile shows. The decoded pixels are kept here and become an SDL texture on first
// draw; the texture is linear-filtered, so a tile of any size draws it scaled.
// Does not: animate (GIF), read EXIF orientation, or reload a file that changed.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <SDL.h>

namespace kohtaamo::platform {

struct Image {
    int width = 0, height = 0;
    std::vector<unsigned char> rgba;  // straight alpha
};

// The longest side a picture is kept at (the tiles never draw one larger).
constexpr int kShownSide = 512;

// Decodes `file` (PNG or JPEG) and scales it to at most kShownSide on its longer side.
// Throws std::runtime_error saying why not (corrupt, too large, not an image).
Image decode_picture(const std::filesystem::path& file);

class Pictures {
public:
    Pictures() = default;
    Pictures(Pictures&&) = default;
    Pictures& operator=(Pictures&&) = default;
    ~Pictures() { release_textures(); }
    // Destroys the textures (before their renderer goes); they are made again on use.
    void release_textures();
    // Decodes `file` unless it already is (the start-up check); throws as decode_picture.
    void add(const std::string& file);
    bool has(const std::string& file) const { return images_.count(file) > 0; }
    // The texture for a decoded file (made on first use, with `renderer`); nullptr for a
    // file that was not added. `*aspect` gets its width / height.
    SDL_Texture* texture(SDL_Renderer* renderer, const std::string& file, float* aspect);
    // Decoded bytes kept, for the figures.
    std::size_t bytes() const;

private:
    struct Entry {
        Image image;
        SDL_Texture* texture = nullptr;
    };
    std::map<std::string, Entry> images_;
};

}  // namespace kohtaamo::platform
