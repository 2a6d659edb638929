// Depthwise 3-tap rows at stride 2 as pair sums (depthwise-pair-sums, the
// default): output o of an 8-wide chunk takes the columns a + 2o - 1, a + 2o,
// a + 2o + 1 (a: the chunk's first middle tap). Per tap row, the 16 columns
// from a times [w1 w2 w1 w2 ...] give the middle and last taps pair by pair
// (x); the odd columns of the 16 from a - 2, picked by one in-lane shuffle
// (vshufps) in the pair sums' lane order, times w0 give the first taps (y,
// from the bias; the even columns are never multiplied, so an inf there
// poisons nothing). One qfuse.pair_sums (vhaddps) of x plus y makes the 8
// outputs, in its lane order [0 1 4 5 2 3 6 7], put back in order once
// before the activation and the store.
// RUN: qfuse-opt %s --convert-qfuse-to-vector -split-input-file --remarks-filter=vectorize --remark-format=emitRemark -verify-diagnostics | FileCheck %s
// With depthwise-pair-sums=false the rows are deinterleaved instead
// (conv-to-vector.mlir):
// RUN: qfuse-opt %s --convert-qfuse-to-vector=depthwise-pair-sums=false -split-input-file | FileCheck %s --check-prefix=OFF

// Rows of 150 inputs, 75 outputs: chunk 0 reads column -2 and -1 (its y
// window is shifted in with zeros, a static chunk), chunks 1..8 are inside
// the plane (the loop over ow0 = 8 .. 72), the 3-output tail is computed
// as a whole vector from reads narrowed to the plane and stored as 3 lanes.
// Row 0 is static: its tap row 0 is the top padding, multiplied in as
// zeros (so NaN weights give NaN, as the padded convolution does).
// CHECK-LABEL: func.func @pairs_relu
// CHECK-DAG:     %[[P0:.*]] = vector.from_elements %[[W01:.*]], %[[W02:.*]], %[[W01]], %[[W02]], %[[W01]], %[[W02]], %[[W01]], %[[W02]] : vector<8xf32>
// CHECK-DAG:     %[[F0:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [8, 8, 0, 1, 2, 3, 4, 5] : vector<8xf32>, vector<8xf32>
// CHECK:         qfuse.pair_sums
// CHECK:         scf.for %[[OW:.*]] = %c8{{.*}} to %c72{{.*}} step %c8
// CHECK:           %[[B:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
// Tap row 0 is the top padding: zeros times the taps.
// CHECK:           %[[XP0:.*]] = vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:           %[[XP1:.*]] = vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<8xf32>
// CHECK:           %[[Y0:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[B]] : vector<8xf32>
// Tap rows 1 and 2: x from the 16 columns at a, y from the odd columns of
// the 16 at a - 2, picked in the pair sums' order by one in-lane shuffle.
// CHECK:           %[[XA0:.*]] = vector.transfer_read {{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[XA1:.*]] = vector.transfer_read {{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[XS0:.*]] = vector.fma %[[XA0]], %{{.*}}, %[[XP0]] : vector<8xf32>
// CHECK:           %[[XS1:.*]] = vector.fma %[[XA1]], %{{.*}}, %[[XP1]] : vector<8xf32>
// CHECK:           %[[YA0:.*]] = vector.transfer_read {{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[YA1:.*]] = vector.transfer_read {{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[FA:.*]] = vector.shuffle %[[YA0]], %[[YA1]] [1, 3, 9, 11, 5, 7, 13, 15] : vector<8xf32>, vector<8xf32>
// CHECK:           %[[Y1:.*]] = vector.fma %[[FA]], %{{.*}}, %[[Y0]] : vector<8xf32>
// CHECK-COUNT-2:   vector.transfer_read {{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[X0:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[XS0]] : vector<8xf32>
// CHECK:           %[[X1:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[XS1]] : vector<8xf32>
// CHECK-COUNT-2:   vector.transfer_read {{.*}} : tensor<3x150xf32>, vector<8xf32>
// CHECK:           %[[FB:.*]] = vector.shuffle %{{.*}}, %{{.*}} [1, 3, 9, 11, 5, 7, 13, 15] : vector<8xf32>, vector<8xf32>
// CHECK:           %[[Y2:.*]] = vector.fma %[[FB]], %{{.*}}, %[[Y1]] : vector<8xf32>
// CHECK:           %[[H:.*]] = qfuse.pair_sums %[[X0]], %[[X1]] : vector<8xf32>
// CHECK:           %[[S:.*]] = arith.addf %[[H]], %[[Y2]] : vector<8xf32>
// CHECK:           %[[ORD:.*]] = vector.shuffle %[[S]], %[[S]] [0, 1, 4, 5, 2, 3, 6, 7] : vector<8xf32>, vector<8xf32>
// CHECK:           %[[R:.*]] = arith.maximumf %[[ORD]], %{{.*}} : vector<8xf32>
// CHECK:           vector.transfer_write %[[R]], %{{.*}}[%{{.*}}, %[[OW]]] {in_bounds = [true]} : vector<8xf32>, tensor<2x75xf32>
// CHECK:           scf.yield
// CHECK:         vector.shuffle %{{.*}}, %{{.*}} [2, 3, 4, 5, 6, 7, 8, 8] : vector<8xf32>, vector<8xf32>
// CHECK:         %[[T:.*]] = qfuse.pair_sums
// CHECK:         %[[TS:.*]] = arith.addf %[[T]], %{{.*}} : vector<8xf32>
// CHECK:         %[[TO:.*]] = vector.shuffle %[[TS]], %[[TS]] [0, 1, 4, 5, 2, 3, 6, 7]
// CHECK:         %[[T3:.*]] = vector.shuffle %[[TO]], %[[TO]] [0, 1, 2] : vector<8xf32>, vector<8xf32>
// CHECK:         %[[TR:.*]] = arith.maximumf %[[T3]], %{{.*}} : vector<3xf32>
// CHECK:         vector.transfer_write %[[TR]], %{{.*}}[%{{.*}}, %c72{{.*}}] {in_bounds = [true]} : vector<3xf32>, tensor<2x75xf32>
// OFF-LABEL: func.func @pairs_relu
// OFF-NOT:     qfuse.pair_sums
// OFF:         vector.shuffle %{{.*}}, %{{.*}} [0, 2, 8, 10, 4, 6, 12, 14] : vector<8xf32>, vector<8xf32>
func.func @pairs_relu(%x: tensor<1x1x3x150xf32>, %w: tensor<1x1x3x3xf32>, %b: tensor<1xf32>) -> tensor<1x1x2x75xf32> {
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors, stride-2 3-tap rows as pair sums}}
  %y = qfuse.conv %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64, activation = #qfuse.activation<relu>} : (tensor<1x1x3x150xf32>, tensor<1x1x3x3xf32>, tensor<1xf32>) -> tensor<1x1x2x75xf32>
  return %y : tensor<1x1x2x75xf32>
}

// -----

// Not pair sums: 5 taps, dilation 2, stride 1 keep the deinterleaved /
// plain rows.
// CHECK-LABEL: func.func @not_pairs
// CHECK-NOT:     qfuse.pair_sums
// CHECK:         return
func.func @not_pairs(%x: tensor<1x2x12x40xf32>, %w5: tensor<2x1x5x5xf32>, %w3: tensor<2x1x3x3xf32>) -> (tensor<1x2x6x20xf32>, tensor<1x2x5x19xf32>, tensor<1x2x12x40xf32>) {
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %a = qfuse.conv %x, %w5 {strides = array<i64: 2, 2>, padding = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x2x12x40xf32>, tensor<2x1x5x5xf32>) -> tensor<1x2x6x20xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %b = qfuse.conv %x, %w3 {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>, groups = 2 : i64} : (tensor<1x2x12x40xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x5x19xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %c = qfuse.conv %x, %w3 {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x2x12x40xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x12x40xf32>
  return %a, %b, %c : tensor<1x2x6x20xf32>, tensor<1x2x5x19xf32>, tensor<1x2x12x40xf32>
}
