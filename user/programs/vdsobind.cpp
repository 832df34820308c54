// vdsobind: the user runtime's vDSO reader (user/lib/vdso_binding.cpp) on copies of the real image:
// an intact copy binds; no image, a broken ELF header, program headers out of bounds, a renamed
// symbol and a wrong version each fail with their own error, never a crash. Exit status 0 = passed.
#include "user/lib/format.hpp"
#include "user/lib/runtime.hpp"

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
    if (condition) return;
    user::println("vdsobind: FAILED {}", what);
    ++failures;
}

// Overwrites the first occurrence of `text` in the copy with `replacement` (same length).
bool patch_string(unsigned char* image, size_t size, const char* text, const char* replacement) {
    const size_t length = __builtin_strlen(text);
    for (size_t i = 0; i + length <= size; ++i) {
        if (__builtin_memcmp(image + i, text, length) == 0 && image[i + length] == '\0') {
            __builtin_memcpy(image + i, replacement, length);
            return true;
        }
    }
    return false;
}

user::BindError bind_copy(const unsigned char* original, unsigned char* copy, size_t size,
                          void (*corrupt)(unsigned char*, size_t), const char** symbol = nullptr) {
    __builtin_memcpy(copy, original, size);
    if (corrupt != nullptr) corrupt(copy, size);
    user::VdsoFunctions functions{};
    const user::BindOutcome outcome = user::bind_vdso(reinterpret_cast<uintptr_t>(copy), functions);
    if (symbol != nullptr) *symbol = outcome.symbol;
    return outcome.error;
}

} // namespace

int main() {
    const user::BindOutcome real = user::vdso_image();
    expect(real.error == user::BindError::None && real.image_size > 0, "the process's own vDSO is bound");
    const long mapped = user::mmap(0, real.image_size, user::PROT_READ | user::PROT_WRITE,
                                   user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    if (mapped < 0) {
        user::println("vdsobind: FAILED mmap: {}", mapped);
        return 1;
    }
    const auto* original = reinterpret_cast<const unsigned char*>(real.image);
    auto* copy = reinterpret_cast<unsigned char*>(mapped);
    const size_t size = real.image_size;
    user::VdsoFunctions unused{};

    expect(user::bind_vdso(0, unused).error == user::BindError::NoAuxiliaryEntry, "no image");
    expect(bind_copy(original, copy, size, nullptr) == user::BindError::None, "an intact copy binds");
    expect(bind_copy(original, copy, size, [](unsigned char* image, size_t) { image[1] = 'X'; }) ==
               user::BindError::NotAnElfImage,
           "bad ELF magic");
    expect(bind_copy(original, copy, size,
                     [](unsigned char* image, size_t) { image[32] = 0xf0; /* e_phoff low byte */ }) ==
               user::BindError::MalformedImage,
           "program headers outside the image");
    const char* missing = nullptr;
    expect(bind_copy(original, copy, size,
                     [](unsigned char* image, size_t bytes) {
                         patch_string(image, bytes, "cokernel_frame_free", "cokernel_frame_frex");
                     },
                     &missing) == user::BindError::MissingSymbol &&
               missing != nullptr && fmt::string_view(missing) == "cokernel_frame_free",
           "a renamed symbol is reported by name");
    expect(bind_copy(original, copy, size,
                     [](unsigned char* image, size_t bytes) { patch_string(image, bytes, "COKERNEL_1.0", "COKERNEL_0.9"); }) ==
               user::BindError::MissingSymbol,
           "symbols at another version are not bound");
    user::println("vdsobind: image at {:#x}, {} bytes; {}", real.image, size, failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
