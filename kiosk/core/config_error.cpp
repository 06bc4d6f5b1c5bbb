#include "config_error.hpp"

namespace kohtaamo {

static std::string format(const std::string& file, int line, int column, const std::string& problem) {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) out += ":" + std::to_string(column);
    }
    return out + ": " + problem;
}

ConfigError::ConfigError(std::string file, int line, int column, const std::string& problem)
    : std::runtime_error(format(file, line, column, problem)),
      file_(std::move(file)), line_(line), problem_(problem) {}

}  // namespace kohtaamo
