//===- HostTensor.cpp - host tensors and .npy files -----------------------===//
//
// The .npy format: magic "\x93NUMPY", a version (major, minor), a header
// length (2 bytes in 1.0, 4 bytes in 2.0/3.0, little-endian), then a Python
// dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} padded
// with spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "qfuse/Runtime/HostTensor.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>

using namespace mlir;
using namespace mlir::qfuse;
using llvm::APFloat;

size_t mlir::qfuse::dtypeSize(DType t) {
  switch (t) {
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F64:
  case DType::I64:
    return 8;
  case DType::I8:
  case DType::U8:
    return 1;
  }
  return 0;
}

llvm::StringRef mlir::qfuse::dtypeName(DType t) {
  switch (t) {
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I8:
    return "i8";
  case DType::U8:
    return "u8";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  }
  return "?";
}

std::optional<DType> mlir::qfuse::dtypeOf(Type t, bool isUint8) {
  if (t.isF16())
    return DType::F16;
  if (t.isBF16())
    return DType::BF16;
  if (t.isF32())
    return DType::F32;
  if (t.isF64())
    return DType::F64;
  if (t.isSignlessInteger(8))
    return isUint8 ? DType::U8 : DType::I8;
  if (t.isSignlessInteger(32))
    return DType::I32;
  if (t.isSignlessInteger(64))
    return DType::I64;
  return std::nullopt;
}

HostTensor::HostTensor(DType dtype, llvm::ArrayRef<int64_t> shape)
    : type(dtype), dims(shape) {
  size_t bytes = std::max<size_t>(64, (sizeInBytes() + 63) / 64 * 64);
  storage = std::shared_ptr<char>(
      static_cast<char *>(std::aligned_alloc(64, bytes)), std::free);
  std::memset(storage.get(), 0, bytes);
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::string HostTensor::shapeString() const {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "x" : "") + std::to_string(dims[i]);
  return s.empty() ? "scalar" : s;
}

static const llvm::fltSemantics &semantics(DType t) {
  return t == DType::F16 ? APFloat::IEEEhalf() : APFloat::BFloat();
}

double HostTensor::getDouble(int64_t i) const {
  const char *p = storage.get() + i * dtypeSize(type);
  switch (type) {
  case DType::F16:
  case DType::BF16: {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    APFloat v(semantics(type), llvm::APInt(16, bits));
    bool lost;
    v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
    return v.convertToDouble();
  }
  case DType::F32: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::F64: {
    double v;
    std::memcpy(&v, p, 8);
    return v;
  }
  case DType::I8:
    return static_cast<int8_t>(*p);
  case DType::U8:
    return static_cast<uint8_t>(*p);
  case DType::I32: {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case DType::I64: {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<double>(v);
  }
  }
  return 0;
}

void HostTensor::setDouble(int64_t i, double v) {
  char *p = storage.get() + i * dtypeSize(type);
  switch (type) {
  case DType::F16:
  case DType::BF16: {
    APFloat f(v);
    bool lost;
    f.convert(semantics(type), APFloat::rmNearestTiesToEven, &lost);
    uint16_t bits = f.bitcastToAPInt().getZExtValue();
    std::memcpy(p, &bits, 2);
    return;
  }
  case DType::F32: {
    float f = static_cast<float>(v);
    std::memcpy(p, &f, 4);
    return;
  }
  case DType::F64:
    std::memcpy(p, &v, 8);
    return;
  case DType::I8:
    *p = static_cast<int8_t>(v);
    return;
  case DType::U8:
    *p = static_cast<char>(static_cast<uint8_t>(v));
    return;
  case DType::I32: {
    int32_t x = static_cast<int32_t>(v);
    std::memcpy(p, &x, 4);
    return;
  }
  case DType::I64: {
    int64_t x = static_cast<int64_t>(v);
    std::memcpy(p, &x, 8);
    return;
  }
  }
}

HostTensor HostTensor::convertTo(DType to) const {
  HostTensor out(to, dims);
  for (int64_t i = 0, e = numElements(); i < e; ++i)
    out.setDouble(i, getDouble(i));
  return out;
}

static std::optional<DType> dtypeOfDescr(llvm::StringRef d) {
  if (d == "<f2")
    return DType::F16;
  if (d == "<f4")
    return DType::F32;
  if (d == "<f8")
    return DType::F64;
  if (d == "|i1" || d == "<i1")
    return DType::I8;
  if (d == "|u1" || d == "<u1")
    return DType::U8;
  if (d == "<i4")
    return DType::I32;
  if (d == "<i8")
    return DType::I64;
  return std::nullopt;
}

static llvm::StringRef descrOf(DType t) {
  switch (t) {
  case DType::F16:
    return "<f2";
  case DType::F32:
  case DType::BF16:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I8:
    return "|i1";
  case DType::U8:
    return "|u1";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  }
  return "";
}

/// The value after `'key':` in the header dict, up to the next top-level
/// comma (a tuple counts as one value).
static std::optional<llvm::StringRef> dictValue(llvm::StringRef header,
                                                llvm::StringRef key) {
  size_t at = header.find(("'" + key + "'").str());
  if (at == llvm::StringRef::npos)
    return std::nullopt;
  llvm::StringRef rest = header.drop_front(at + key.size() + 2).ltrim();
  if (!rest.consume_front(":"))
    return std::nullopt;
  rest = rest.ltrim();
  if (rest.starts_with("(")) {
    size_t close = rest.find(')');
    if (close == llvm::StringRef::npos)
      return std::nullopt;
    return rest.take_front(close + 1);
  }
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

llvm::Expected<HostTensor> HostTensor::readNpy(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   path + ": " + why);
  };
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(path, /*IsText=*/false);
  if (!buffer)
    return fail("cannot read: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return fail("not a .npy file (no \\x93NUMPY magic)");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = static_cast<unsigned char>(bytes[8]) |
                (static_cast<unsigned char>(bytes[9]) << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail("truncated .npy header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    return fail("unsupported .npy format version " + llvm::Twine(major));
  }
  if (bytes.size() < headerStart + headerLen)
    return fail("truncated .npy header");
  llvm::StringRef header = bytes.substr(headerStart, headerLen);
  auto descr = dictValue(header, "descr");
  auto fortran = dictValue(header, "fortran_order");
  auto shapeText = dictValue(header, "shape");
  if (!descr || !fortran || !shapeText)
    return fail("malformed .npy header: " + header.trim());
  llvm::StringRef d = descr->trim().trim("'\"");
  std::optional<DType> dtype = dtypeOfDescr(d);
  if (!dtype)
    return fail("unsupported dtype '" + d +
                "' (supported: <f2 <f4 <f8 |i1 |u1 <i4 <i8)");
  if (fortran->trim() != "False")
    return fail("Fortran-ordered arrays are not supported; save with "
                "np.ascontiguousarray");
  llvm::SmallVector<int64_t> shape;
  llvm::StringRef dimsText = shapeText->trim().drop_front().drop_back();
  llvm::SmallVector<llvm::StringRef> parts;
  dimsText.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    part = part.trim();
    if (part.empty())
      continue;
    int64_t v;
    if (part.getAsInteger(10, v) || v < 0)
      return fail("malformed shape " + *shapeText);
    shape.push_back(v);
  }
  HostTensor t(*dtype, shape);
  size_t dataStart = headerStart + headerLen;
  if (bytes.size() - dataStart != t.sizeInBytes())
    return fail("data holds " + llvm::Twine(bytes.size() - dataStart) +
                " bytes, the header's shape (" + t.shapeString() + ") and " +
                "dtype need " + llvm::Twine(t.sizeInBytes()));
  std::memcpy(t.data(), bytes.data() + dataStart, t.sizeInBytes());
  return t;
}

llvm::Error HostTensor::writeNpy(llvm::StringRef path) const {
  if (type == DType::BF16)
    return convertTo(DType::F32).writeNpy(path);
  std::string shape = "(";
  for (int64_t d : dims)
    shape += std::to_string(d) + ", ";
  if (dims.size() > 1)
    shape.erase(shape.size() - 2);
  else if (dims.size() == 1)
    shape.erase(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + descrOf(type).str() +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, path + ": cannot write: " +
                                           ec.message());
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  os.write(static_cast<const char *>(data()), sizeInBytes());
  return llvm::Error::success();
}
