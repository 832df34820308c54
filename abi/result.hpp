// Result<T>: a value or an Error, the kernel's way of returning failure.
//
// Freestanding-safe (no exceptions, no allocation). Errors travel up with TRY, an early return:
//
//     Frame frame = TRY(frames.allocate());   // returns frames.allocate().error() on failure
//     TRY(space.map(address, frame));         // Result<void>: nothing to take
//
// Out of memory, malformed input and the like are errors returned to the caller, never a panic.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace kernel {

enum class Error : int {
    NoMemory = 1,        // an allocator is exhausted
    InvalidArgument,     // a parameter is out of range or misaligned
    NotFound,            // a looked-up name, node or entry does not exist
    Malformed,           // input data (device tree, ELF, ...) violates its format
    Truncated,           // input data ends before its header says it does
    AlreadyExists,       // mapping over a present entry, inserting a duplicate
    Unsupported,         // the platform or firmware lacks the feature
};

constexpr const char* error_name(Error error) {
    switch (error) {
    case Error::NoMemory: return "out of memory";
    case Error::InvalidArgument: return "invalid argument";
    case Error::NotFound: return "not found";
    case Error::Malformed: return "malformed";
    case Error::Truncated: return "truncated";
    case Error::AlreadyExists: return "already exists";
    case Error::Unsupported: return "unsupported";
    }
    return "unknown error";
}

template <typename T>
class [[nodiscard]] Result {
public:
    Result(const T& value) : has_value_(true) { new (&storage_.value) T(value); }
    Result(T&& value) : has_value_(true) { new (&storage_.value) T(std::move(value)); }
    Result(Error error) : has_value_(false) { storage_.error = error; }

    Result(const Result& other) : has_value_(other.has_value_) {
        if (has_value_) new (&storage_.value) T(other.storage_.value);
        else storage_.error = other.storage_.error;
    }
    Result& operator=(const Result& other) {
        if (this != &other) {
            this->~Result();
            new (this) Result(other);
        }
        return *this;
    }
    ~Result() {
        if (has_value_) storage_.value.~T();
    }

    explicit operator bool() const { return has_value_; }
    bool has_value() const { return has_value_; }

    T& value() { return storage_.value; }
    const T& value() const { return storage_.value; }
    T& operator*() { return storage_.value; }
    const T& operator*() const { return storage_.value; }
    T* operator->() { return &storage_.value; }
    const T* operator->() const { return &storage_.value; }
    Error error() const { return storage_.error; }

    T value_or(T fallback) const { return has_value_ ? storage_.value : fallback; }

private:
    union Storage {
        Storage() {}
        ~Storage() {}
        T value;
        Error error;
    } storage_;
    bool has_value_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(error), ok_(false) {}
    explicit operator bool() const { return ok_; }
    bool has_value() const { return ok_; }
    Error error() const { return error_; }

private:
    Error error_ = Error::InvalidArgument;
    bool ok_ = true;
};

inline Result<void> success() { return {}; }

namespace detail {
template <typename T>
T take_value(Result<T>& result) { return std::move(*result); }
inline void take_value(Result<void>&) {}
} // namespace detail

} // namespace kernel

// TRY(expression): evaluates `expression`, a Result; if it holds an error, returns that error from
// the enclosing function (whose return type must be constructible from kernel::Error); otherwise its
// value is the result's value (moved out), or nothing for Result<void>. A GNU statement expression,
// as GCC and Clang accept (Serenity's and Linux's idiom); not for use inside coroutines (co_return).
#define TRY(expression)                                                     \
    ({                                                                      \
        auto try_result_ = (expression);                                    \
        if (!try_result_) return try_result_.error();                       \
        ::kernel::detail::take_value(try_result_);                          \
    })
