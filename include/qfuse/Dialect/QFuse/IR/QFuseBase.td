//===- QFuseBase.td - qfuse dialect definition -------------*- tablegen -*-===//
//
// The qfuse dialect: convolutional-network operators as they come out of
// training (convolution, batch-norm, activation, fake-quant) and the fused
// forms qfuse's passes produce from them.
//
//===----------------------------------------------------------------------===//

#ifndef QFUSE_DIALECT_QFUSE_IR_QFUSEBASE_TD
#define QFUSE_DIALECT_QFUSE_IR_QFUSEBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/AttrTypeBase.td"

def QFuse_Dialect : Dialect {
  let name = "qfuse";
  let cppNamespace = "::mlir::qfuse";
  let summary = "Convolution, batch-norm, activation and fake-quant for deployment";
  let description = [{
    The qfuse dialect models convolutional networks on ranked tensors with
    PyTorch / ONNX semantics: activations are laid out `N, C, spatial...`,
    convolution weights `[Cout, Cin/groups, k...]`, transposed-convolution
    weights `[Cin, Cout/groups, k...]`, and the channel axis of batch-norm is
    axis 1.

    Besides the operators a training framework emits, the dialect carries the
    forms qfuse's passes produce:

    * the PTQ (deploy) form: `qfuse.conv`, `qfuse.conv_transpose` and
      `qfuse.linear` with a folded bias and a fused `activation` attribute,
      one op like PyTorch's `ConvReLU2d`;
    * the QAT form `qfuse.qat_conv_bn`, which keeps convolution and
      batch-norm apart (statistics, momentum, weight fake-quant) so training
      can continue, like PyTorch's `ConvBnReLU2d`.
  }];
  let useDefaultAttributePrinterParser = 1;
  // What the kernel-level cache hints bufferize into.
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def QFuse_ActivationNone  : I32EnumAttrCase<"none", 0>;
def QFuse_ActivationRelu  : I32EnumAttrCase<"relu", 1>;
def QFuse_ActivationClamp : I32EnumAttrCase<"clamp", 2>;

def QFuse_ActivationKind : I32EnumAttr<"ActivationKind",
    "activation fused into a convolution or linear op",
    [QFuse_ActivationNone, QFuse_ActivationRelu, QFuse_ActivationClamp]> {
  let cppNamespace = "::mlir::qfuse";
  let genSpecializedAttr = 0;
}

def QFuse_ActivationAttr : EnumAttr<QFuse_Dialect, QFuse_ActivationKind,
                                    "activation"> {
  let assemblyFormat = "`<` $value `>`";
}

def QFuse_QatModeTrain  : I32EnumAttrCase<"train", 0>;
def QFuse_QatModeFrozen : I32EnumAttrCase<"frozen", 1>;

def QFuse_QatMode : I32EnumAttr<"QatMode",
    "whether a QAT op normalises with batch or running statistics",
    [QFuse_QatModeTrain, QFuse_QatModeFrozen]> {
  let cppNamespace = "::mlir::qfuse";
  let genSpecializedAttr = 0;
}

def QFuse_QatModeAttr : EnumAttr<QFuse_Dialect, QFuse_QatMode, "qat_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def QFuse_FloatElement : AnyTypeOf<[F16, BF16, F32, F64]>;
def QFuse_FloatTensor : RankedTensorOf<[F16, BF16, F32, F64]>;
def QFuse_Float1DTensor : 1DTensorOf<[F16, BF16, F32, F64]>;
def QFuse_ScaleTensor : RankedTensorOf<[F16, BF16, F32, F64]>;
def QFuse_ZeroPointTensor : RankedTensorOf<[AnySignlessInteger]>;
// Integer storage of quantized tensors: i8 holds int8 or, where the op says
// `unsigned`, uint8 bit patterns; i32 holds biases and accumulators.
def QFuse_Int8Tensor : RankedTensorOf<[I8]>;
def QFuse_Int8Or32Tensor : RankedTensorOf<[I8, I32]>;
def QFuse_Int32_1DTensor : 1DTensorOf<[I32]>;

class QFuse_Op<string mnemonic, list<Trait> traits = []>
    : Op<QFuse_Dialect, mnemonic, traits>;

#endif // QFUSE_DIALECT_QFUSE_IR_QFUSEBASE_TD
