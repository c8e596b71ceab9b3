// The API's response envelope: {"status":"success","data":...,"warnings":[...]}
// and the error contract {"status":"error","errorType":...,"error":...} with the
// HTTP codes Prometheus 2.42 uses for each error type.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "web/json_writer.h"

namespace httplib {
struct Response;
}

namespace vigil::web {

// Prometheus's errorType values.
enum class ApiErrorType {
  kBadData,
  kExecution,
  kTimeout,
  kCanceled,
  kNotFound,
  kUnavailable,
  kInternal
};

struct ApiError {
  ApiErrorType type;
  std::string message;
};

// "bad_data", "execution", ...
const char* ApiErrorTypeName(ApiErrorType type);
// 400 for bad_data, 422 execution, 503 timeout/canceled/unavailable, 404, 500.
int ApiErrorHttpStatus(ApiErrorType type);

// Maps a Status from the engine or storage onto an API error, as Prometheus's
// returnAPIError does (invalid argument -> bad_data, timeout, canceled, storage
// failures -> internal, everything else from evaluation -> execution).
ApiError ApiErrorFromStatus(const Status& status);
// bad_data with Prometheus's `invalid parameter "name": ...` wording.
ApiError InvalidParam(std::string_view name, std::string_view message);

// Writes the success envelope; `data` writes the "data" value.
void WriteApiSuccess(httplib::Response& res, const std::function<void(JsonWriter&)>& data,
                     const std::vector<std::string>& warnings = {});
void WriteApiError(httplib::Response& res, const ApiError& error);

// Plain-text bodies as Go's http.Error writes them ("message\n").
void WritePlainError(httplib::Response& res, int status, std::string_view message);

}  // namespace vigil::web
