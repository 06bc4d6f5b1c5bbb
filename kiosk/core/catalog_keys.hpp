// catalog_keys.hpp — the texts the kiosk's screens ask the catalogue for (config/lang/<code>.toml,
// [ui]): the fallback language's file must give every one of them (Catalog::load), so that no
// screen ever shows a bare key such as "[next]" to a family. tests/ui checks, by walking every
// screen, that the screens ask for no key missing from this list.
#pragma once
#include <string>
#include <vector>

namespace kohtaamo {
const std::vector<std::string>& catalog_keys();
}
