//===- IntegerIsa.h - the x86 integer dot-product levels --------*- C++ -*-===//
//
// What the integer kernels may use: ordered, each level including the one
// before (AVX-VNNI and AVX512-VNNI machines have AVX2).
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_CONVERSION_INTEGERISA_H
#define QFUSE_CONVERSION_INTEGERISA_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir {
namespace qfuse {

enum class IntegerIsa { Generic, Avx2, AvxVnni, Avx512Vnni };

constexpr const char *kIntegerIsaNames =
    "auto, generic, avx2, avxvnni, avx512vnni";

/// `auto` reads the host's features; nullopt for an unknown name.
std::optional<IntegerIsa> parseIntegerIsa(llvm::StringRef name);

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_CONVERSION_INTEGERISA_H
