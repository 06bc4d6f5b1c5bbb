// media.hpp — what the core knows of the media files a survey or the news names (relative
// to the kiosk's assets folder, [kiosk] assets): which icons are pictures rather than
// emoji, and how large a picture may be. Decoding is the platform layer's (pictures.hpp).
#pragma once
#include <cstdint>
#include <string>

namespace kohtaamo {

// Pictures of the centre's own (an icon that is a file): at most this many bytes (checked
// when the survey loads), and at most kMaxPictureSide pixels on a side (checked when the
// picture is decoded at start-up).
constexpr std::uintmax_t kMaxPictureBytes = 4 * 1024 * 1024;
constexpr int kMaxPictureSide = 4096;

// True when an icon names a picture file (it ends in .png, .jpg or .jpeg, in any case)
// rather than being an emoji.
bool is_picture_file(const std::string& icon);

}  // namespace kohtaamo
