// config_error.hpp — the one error type for bad configuration: survey files, the device
// config and the UI text catalogue. Its message always names the file, the line (when the
// parser or the TOML node gives one) and the problem, e.g.
//   config/surveys/child.toml:12:9: unknown question kind "smily" (expected smiley, picture, agree)
#pragma once
#include <stdexcept>
#include <string>

namespace kohtaamo {

class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string file, int line, int column, const std::string& problem);
    const std::string& file() const { return file_; }
    int line() const { return line_; }
    const std::string& problem() const { return problem_; }

private:
    std::string file_;
    int line_;
    std::string problem_;
};

}  // namespace kohtaamo
