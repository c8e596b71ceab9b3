#include "web/api_response.h"

#include <httplib.h>

namespace vigil::web {

const char* ApiErrorTypeName(ApiErrorType type) {
  switch (type) {
    case ApiErrorType::kBadData:
      return "bad_data";
    case ApiErrorType::kExecution:
      return "execution";
    case ApiErrorType::kTimeout:
      return "timeout";
    case ApiErrorType::kCanceled:
      return "canceled";
    case ApiErrorType::kNotFound:
      return "not_found";
    case ApiErrorType::kUnavailable:
      return "unavailable";
    case ApiErrorType::kInternal:
      return "internal";
  }
  return "internal";
}

int ApiErrorHttpStatus(ApiErrorType type) {
  switch (type) {
    case ApiErrorType::kBadData:
      return 400;
    case ApiErrorType::kExecution:
      return 422;
    case ApiErrorType::kTimeout:
    case ApiErrorType::kCanceled:
    case ApiErrorType::kUnavailable:
      return 503;
    case ApiErrorType::kNotFound:
      return 404;
    case ApiErrorType::kInternal:
      return 500;
  }
  return 500;
}

ApiError ApiErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return {ApiErrorType::kBadData, status.message()};
    case StatusCode::kTimeout:
      return {ApiErrorType::kTimeout, status.message()};
    case StatusCode::kCancelled:
      return {ApiErrorType::kCanceled, status.message()};
    case StatusCode::kNotFound:
      return {ApiErrorType::kNotFound, status.message()};
    case StatusCode::kUnavailable:
      return {ApiErrorType::kUnavailable, status.message()};
    case StatusCode::kExecution:
    case StatusCode::kResourceExhausted:
      return {ApiErrorType::kExecution, status.message()};
    case StatusCode::kIOError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return {ApiErrorType::kInternal, status.message()};
    default:
      return {ApiErrorType::kExecution, status.message()};
  }
}

ApiError InvalidParam(std::string_view name, std::string_view message) {
  std::string text = "invalid parameter \"";
  text += name;
  text += "\": ";
  text += message;
  return {ApiErrorType::kBadData, std::move(text)};
}

void WriteApiSuccess(httplib::Response& res, const std::function<void(JsonWriter&)>& data,
                     const std::vector<std::string>& warnings) {
  JsonWriter w;
  w.BeginObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  data(w);
  if (!warnings.empty()) {
    w.Key("warnings");
    w.StringArray(warnings);
  }
  w.EndObject();
  res.status = 200;
  res.set_content(w.Take(), "application/json");
}

void WriteApiError(httplib::Response& res, const ApiError& error) {
  JsonWriter w;
  w.BeginObject();
  w.Key("status");
  w.String("error");
  w.Key("errorType");
  w.String(ApiErrorTypeName(error.type));
  w.Key("error");
  w.String(error.message);
  w.EndObject();
  res.status = ApiErrorHttpStatus(error.type);
  res.set_content(w.Take(), "application/json");
}

void WritePlainError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_header("X-Content-Type-Options", "nosniff");
  std::string body(message);
  body += '\n';
  res.set_content(std::move(body), "text/plain; charset=utf-8");
}

}  // namespace vigil::web
