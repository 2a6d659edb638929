// Max-pooling (linalg.pooling_nchw_max, 2x2 or 3x3 windows at stride 2, in
// the ONNX importer's form: a tensor.pad by -inf and a fill of -inf) as a
// vector kernel: per (image, channel) plane and output row, the window's
// rows are combined 8 input columns at a time, two shuffles split 16
// columns into even and odd ones, and a 3x3 window's first column is the
// previous chunk's last odd one (column -1, the padding, for the first).
// The unpadded input is read in place: the pad and the fill go.
// RUN: qfuse-opt %s --convert-qfuse-to-vector --canonicalize --cse -split-input-file --remarks-filter=vectorize --remark-format=emitRemark -verify-diagnostics | FileCheck %s

// 11 output columns: one in-bounds chunk of 8, then a tail chunk whose
// reads and write are not in bounds (past the row: the padding value, and
// clipped). Row 2·oh − 1 is above the input only for oh = 0, so only that
// tap row is range-checked at the top; the last output row's window ends
// at row 13 = the bottom padding, so the third tap row is checked there.
// CHECK-LABEL: func.func @resnet_form
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x13x21xf32>) -> tensor<2x3x7x11xf32>
// CHECK-DAG:     %[[NINF:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK-NOT:     tensor.pad
// CHECK-NOT:     linalg.fill
// CHECK:         scf.forall (%[[N:.*]], %[[C:.*]]) in (2, 3)
// CHECK:           %[[PLANE:.*]] = tensor.extract_slice %[[X]][%[[N]], %[[C]], 0, 0] [1, 1, 13, 21] [1, 1, 1, 1]
// CHECK:           scf.for %[[OH:.*]] = %c0 to %c7 step %c1
// CHECK:             %[[ABOVE_OK:.*]] = arith.cmpi sge
// CHECK:             vector.transfer_read %[[PLANE]]{{.*}} {in_bounds = [true]}
// CHECK:             arith.select %[[ABOVE_OK]]
// CHECK:             %[[BELOW_OK:.*]] = arith.cmpi sle
// CHECK:             arith.select %[[BELOW_OK]]
// CHECK:             %[[EVEN:.*]] = vector.shuffle %[[LO:.*]], %[[HI:.*]] [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK:             %[[ODD:.*]] = vector.shuffle %[[LO]], %[[HI]] [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK:             %[[M:.*]] = arith.maximumf %[[EVEN]], %[[ODD]] : vector<8xf32>
// CHECK:             %[[BEFORE:.*]] = vector.shuffle %[[NINF]], %[[ODD]] [7, 8, 9, 10, 11, 12, 13, 14]
// CHECK:             %[[OUT:.*]] = arith.maximumf %[[M]], %[[BEFORE]]
// CHECK:             %[[W0:.*]] = vector.transfer_write %[[OUT]], %{{.*}}[%[[OH]], %c0] {in_bounds = [true]}
// The tail chunk (columns 8..10): its first column is chunk 0's last odd.
// CHECK:             vector.transfer_read %[[PLANE]][%{{.*}}, %c16], %{{.*}} : tensor<13x21xf32>, vector<8xf32>
// CHECK:             %[[ODD2:.*]] = vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK:             vector.shuffle %[[ODD]], %[[ODD2]] [7, 8, 9, 10, 11, 12, 13, 14]
// CHECK:             vector.transfer_write %{{.*}}, %[[W0]][%[[OH]], %c8] : vector<8xf32>, tensor<7x11xf32>
// CHECK:           tensor.parallel_insert_slice
func.func @resnet_form(%x: tensor<2x3x13x21xf32>) -> tensor<2x3x7x11xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %ninf : f32
  } : tensor<2x3x13x21xf32> to tensor<2x3x15x23xf32>
  %win = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<2x3x7x11xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<2x3x7x11xf32>) -> tensor<2x3x7x11xf32>
  // expected-remark @+1 {{max-pooling vector kernel: 3x3 windows at stride 2, 8 output columns per vector, the input read in place}}
  %y = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%p, %win : tensor<2x3x15x23xf32>, tensor<3x3xf32>) outs(%f : tensor<2x3x7x11xf32>) -> tensor<2x3x7x11xf32>
  return %y : tensor<2x3x7x11xf32>
}

// -----

// 2x2/2 without padding: the maximum of the even and odd columns, no
// carried column, no range checks (every row is inside).
// CHECK-LABEL: func.func @two_by_two
// CHECK-NOT:     arith.cmpi
// CHECK:         scf.for %{{.*}} = %c0 to %c16 step %c8
// CHECK:           %[[EVEN:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14]
// CHECK:           %[[ODD:.*]] = vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15]
// CHECK:           %[[OUT:.*]] = arith.maximumf %[[EVEN]], %[[ODD]]
// CHECK-NEXT:      vector.transfer_write %[[OUT]]
func.func @two_by_two(%x: tensor<1x4x8x32xf32>) -> tensor<1x4x4x16xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %win = tensor.empty() : tensor<2x2xf32>
  %e = tensor.empty() : tensor<1x4x4x16xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  // expected-remark @+1 {{max-pooling vector kernel: 2x2 windows at stride 2}}
  %y = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %win : tensor<1x4x8x32xf32>, tensor<2x2xf32>) outs(%f : tensor<1x4x4x16xf32>) -> tensor<1x4x4x16xf32>
  return %y : tensor<1x4x4x16xf32>
}

// -----

// Must not: stride 1.
// CHECK-LABEL: func.func @stride_one
// CHECK:         linalg.pooling_nchw_max
func.func @stride_one(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x6x6xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %win = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<1x4x6x6xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  // expected-remark @+1 {{left to the generic lowering: 3x3 windows at strides 1x1, dilations 1x1; the kernel takes 2x2 and 3x3 at stride 2}}
  %y = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %win : tensor<1x4x8x8xf32>, tensor<3x3xf32>) outs(%f : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %y : tensor<1x4x6x6xf32>
}

// -----

// Must not: a 3x3 window without the padding of one at the top and left.
// CHECK-LABEL: func.func @unpadded_three
// CHECK:         linalg.pooling_nchw_max
func.func @unpadded_three(%x: tensor<1x4x9x9xf32>) -> tensor<1x4x4x4xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %win = tensor.empty() : tensor<3x3xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  // expected-remark @+1 {{left to the generic lowering: padding 0, 0 at the top and left; a 3x3 window takes 1 there}}
  %y = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %win : tensor<1x4x9x9xf32>, tensor<3x3xf32>) outs(%f : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

// Must not: the output's initial value is not a constant fill (an
// argument: the pooling then maximizes into it).
// CHECK-LABEL: func.func @accumulating
// CHECK:         linalg.pooling_nchw_max
func.func @accumulating(%x: tensor<1x4x8x16xf32>, %acc: tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32> {
  %win = tensor.empty() : tensor<2x2xf32>
  // expected-remark @+1 {{left to the generic lowering: its initial value is not a constant fill}}
  %y = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %win : tensor<1x4x8x16xf32>, tensor<2x2xf32>) outs(%acc : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %y : tensor<1x4x4x8xf32>
}
