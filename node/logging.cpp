#include "raftor/node/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace raftor::node {

namespace {

// %* : the message as the inside of a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (char c : msg.payload) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            dest.append(std::string_view(buf));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

}  // namespace

Status configure_logging(const NodeConfig& config) {
  const auto level = spdlog::level::from_str(config.log.level);
  if (level == spdlog::level::off && config.log.level != "off") {
    return make_error(ErrorCode::invalid_argument, "unknown log level '" + config.log.level + "'");
  }
  std::shared_ptr<spdlog::logger> logger;
  try {
    if (config.log.file.empty()) {
      logger = spdlog::stderr_color_mt("raftor-node-" + std::to_string(config.id));
    } else {
      logger = spdlog::basic_logger_mt("raftor-node-" + std::to_string(config.id),
                                       config.log.file.string());
    }
  } catch (const spdlog::spdlog_ex& e) {
    return make_error(ErrorCode::io_error, std::string("cannot open the log: ") + e.what());
  }
  if (config.log.json) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","node":)" + std::to_string(config.id) +
        R"(,"msg":"%*"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [node " + std::to_string(config.id) + "] %v");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(std::chrono::seconds(1));
  return {};
}

}  // namespace raftor::node
