//===- HostTensor.h - host tensors and .npy files ---------------*- C++ -*-===//

#ifndef QFUSE_RUNTIME_HOSTTENSOR_H
#define QFUSE_RUNTIME_HOSTTENSOR_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mlir {
namespace qfuse {

/// Element types qfuse-run exchanges with the host. U8 is an MLIR `i8`
/// marked `qfuse.uint8` (uint8 storage, see the integer ops).
enum class DType { F16, BF16, F32, F64, I8, U8, I32, I64 };

/// Bytes per element.
size_t dtypeSize(DType t);
/// "f32", "bf16", ...
llvm::StringRef dtypeName(DType t);
/// The DType of an MLIR element type, if it is one qfuse-run supports;
/// `isUint8` reads an `i8` as uint8.
std::optional<DType> dtypeOf(Type elementType, bool isUint8 = false);

/// A dense, row-major host tensor with 64-byte aligned storage.
class HostTensor {
public:
  HostTensor() = default;
  HostTensor(DType dtype, llvm::ArrayRef<int64_t> shape);

  DType dtype() const { return type; }
  llvm::ArrayRef<int64_t> shape() const { return dims; }
  int64_t numElements() const;
  size_t sizeInBytes() const { return numElements() * dtypeSize(type); }
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }
  std::string shapeString() const;

  /// Element `i` widened to double (f16/bf16 exactly).
  double getDouble(int64_t i) const;
  /// Stores `v` rounded to nearest-even into element `i`.
  void setDouble(int64_t i, double v);

  /// Reads a .npy file (format 1.0-3.0, C order; '<f2' '<f4' '<f8' '|i1'
  /// '<i4' '<i8'). `path` "-" reads standard input.
  static llvm::Expected<HostTensor> readNpy(llvm::StringRef path);
  /// Writes a .npy file (format 1.0). bf16 is written as '<f4' (exact), as
  /// numpy has no bfloat16.
  llvm::Error writeNpy(llvm::StringRef path) const;

  /// Converts to `to` (rounding once, to nearest-even).
  HostTensor convertTo(DType to) const;

private:
  DType type = DType::F32;
  llvm::SmallVector<int64_t> dims;
  std::shared_ptr<char> storage;
};

} // namespace qfuse
} // namespace mlir

#endif // QFUSE_RUNTIME_HOSTTENSOR_H
