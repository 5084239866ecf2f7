// Library code returns Result<T>: a value or an Error that says what failed and why (STYLE.md §4).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vgpu {

struct Error {
  std::string message;  // complete sentence fragment: "cannot open /x: No such file or directory"
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace vgpu
