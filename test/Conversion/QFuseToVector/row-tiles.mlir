// Row tiles: with either loop outermost, a 2-D dense conv whose
// padding adds exactly nothing goes one output row at a time, each row in
// column tiles whose pixels' columns are constants; the tap-row loop runs
// only over the rows of the input (bounds from the output row), and a
// pixel's taps on padding columns are not emitted at all.
// RUN: qfuse-opt %s --convert-qfuse-to-vector -split-input-file --remarks-filter=vectorize --remark-format=emitRemark 2>&1 | FileCheck %s

// A 5-wide row: one tile of 5 pixels x 8 channels. Tap column 0 has no
// multiply-add for pixel 0 (its column -1 is padding), tap column 2 none
// for pixel 4 (column 5); tap column 1 has all five.
// CHECK: remark: [Passed] ConvToVector {{.*}}5 pixels per register tile, channel-block loop outermost, row tiles (1 per row) that skip the padding taps
// CHECK-LABEL: func.func @row_tiles
// CHECK:         scf.for %[[ROW:.*]] = %{{.*}} to %c4{{.*}} step
// CHECK:           scf.for %{{.*}} = %{{.*}} to %c8{{.*}} step %{{.*}} iter_args(%[[P0:.*]] = %{{.*}}, %[[P1:.*]] = %{{.*}}, %[[P2:.*]] = %{{.*}}, %[[P3:.*]] = %{{.*}}, %[[P4:.*]] = %{{.*}})
// CHECK:             %[[LO:.*]] = arith.maxsi %c0{{.*}}, %{{.*}} : index
// CHECK:             %[[HI:.*]] = arith.minsi %c3{{.*}}, %{{.*}} : index
// CHECK:             scf.for %{{.*}} = %[[LO]] to %[[HI]] step %{{.*}} iter_args(%[[A0:.*]] = %[[P0]], %[[A1:.*]] = %[[P1]], %[[A2:.*]] = %[[P2]], %[[A3:.*]] = %[[P3]], %[[A4:.*]] = %[[P4]])
// CHECK:               %[[W0:.*]] = vector.transfer_read
// CHECK-NOT:           vector.fma %{{.*}}, %[[W0]], %[[A0]]
// CHECK:               %[[F1:.*]] = vector.fma %{{.*}}, %[[W0]], %[[A1]]
// CHECK:               %[[F2:.*]] = vector.fma %{{.*}}, %[[W0]], %[[A2]]
// CHECK:               %[[F3:.*]] = vector.fma %{{.*}}, %[[W0]], %[[A3]]
// CHECK:               %[[F4:.*]] = vector.fma %{{.*}}, %[[W0]], %[[A4]]
// CHECK:               %[[W1:.*]] = vector.transfer_read
// CHECK:               %[[G0:.*]] = vector.fma %{{.*}}, %[[W1]], %[[A0]]
// CHECK:               %[[G1:.*]] = vector.fma %{{.*}}, %[[W1]], %[[F1]]
// CHECK:               %[[G2:.*]] = vector.fma %{{.*}}, %[[W1]], %[[F2]]
// CHECK:               %[[G3:.*]] = vector.fma %{{.*}}, %[[W1]], %[[F3]]
// CHECK:               %[[G4:.*]] = vector.fma %{{.*}}, %[[W1]], %[[F4]]
// CHECK:               %[[W2:.*]] = vector.transfer_read
// CHECK:               %[[H0:.*]] = vector.fma %{{.*}}, %[[W2]], %[[G0]]
// CHECK:               %[[H1:.*]] = vector.fma %{{.*}}, %[[W2]], %[[G1]]
// CHECK:               %[[H2:.*]] = vector.fma %{{.*}}, %[[W2]], %[[G2]]
// CHECK:               %[[H3:.*]] = vector.fma %{{.*}}, %[[W2]], %[[G3]]
// CHECK-NOT:           vector.fma
// CHECK:               scf.yield %[[H0]], %[[H1]], %[[H2]], %[[H3]], %[[G4]]
func.func @row_tiles(%x: tensor<1x8x4x5xf32>) -> tensor<1x8x4x5xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8x3x3xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x4x5xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x4x5xf32>
  return %y : tensor<1x8x4x5xf32>
}

// -----

// Must not skip: an inf weight times a padding zero is NaN, which the
// padded convolution (and PyTorch) keeps.
// CHECK: remark: [Passed] ConvToVector {{.*}}channel-block loop outermost"
// CHECK-LABEL: func.func @infinite_weight
// CHECK-NOT:     arith.maxsi
func.func @infinite_weight(%x: tensor<1x8x4x5xf32>) -> tensor<1x8x4x5xf32> {
  %w = arith.constant dense<0x7F800000> : tensor<8x8x3x3xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x4x5xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x4x5xf32>
  return %y : tensor<1x8x4x5xf32>
}

// -----

// Must not skip: run-time weights may hold anything.
// CHECK: remark: [Passed] ConvToVector {{.*}}channel-block loop outermost"
// CHECK-LABEL: func.func @runtime_weights
// CHECK-NOT:     arith.maxsi
func.func @runtime_weights(%x: tensor<1x8x4x5xf32>, %w: tensor<8x8x3x3xf32>) -> tensor<1x8x4x5xf32> {
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x4x5xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x4x5xf32>
  return %y : tensor<1x8x4x5xf32>
}

// -----

// skip-padding=false keeps the flat pixel tiles.
// RUN: qfuse-opt %s --convert-qfuse-to-vector=skip-padding=false -split-input-file --remarks-filter=vectorize --remark-format=emitRemark 2>&1 | FileCheck %s --check-prefix=OFF
// OFF: remark: [Passed] ConvToVector {{.*}}8 output channels x 12 pixels per register tile, channel-block loop outermost"
// OFF-NOT: row tiles
// CHECK-LABEL: func.func @off
func.func @off(%x: tensor<1x8x4x5xf32>) -> tensor<1x8x4x5xf32> {
  %w = arith.constant dense<0.5> : tensor<8x8x3x3xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x4x5xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x4x5xf32>
  return %y : tensor<1x8x4x5xf32>
}

// -----

// A row of more than 4 tiles: the edge tiles (columns 0 and 25) static,
// with their padding taps left out; the interior ones, whose taps all read
// the input, in a loop over their first column.
// CHECK: remark: [Passed] ConvToVector {{.*}}16 output channels x 5 pixels per register tile, channel-block loop outermost, row tiles (6 per row, 4 in a loop) that skip the padding taps
// CHECK-LABEL: func.func @wide_rows
// CHECK:         scf.for %[[ROW:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           arith.maxsi
// CHECK:           arith.minsi
// CHECK:           scf.for %{{.*}} = %c5{{.*}} to %c25{{.*}} step %c5
// CHECK:             arith.maxsi
// CHECK:             arith.minsi
// CHECK:           scf.yield
// CHECK:           arith.maxsi
// CHECK:           arith.minsi
func.func @wide_rows(%x: tensor<1x8x2x30xf32>) -> tensor<1x16x2x30xf32> {
  %w = arith.constant dense<0.5> : tensor<16x8x3x3xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x2x30xf32>, tensor<16x8x3x3xf32>) -> tensor<1x16x2x30xf32>
  return %y : tensor<1x16x2x30xf32>
}

// -----

// Tiles of two adjacent widths rather than full ones and a remainder: 28
// columns at most 5 wide as 4 x 5 + 2 x 4 (not 5 x 5 + 3). The 5-wide
// interior ones (columns 5 .. 15) in a loop, the first and the 4-wide ones
// static. The input is read in place: no padded copy, the taps indexed on
// the 2 x 28 plane itself (each pixel's column minus the left padding).
// CHECK: remark: [Passed] ConvToVector {{.*}}16 output channels x 5 pixels per register tile, channel-block loop outermost, row tiles (6 per row, 3 in a loop) that skip the padding taps
// CHECK-LABEL: func.func @two_widths
// CHECK-NOT:     tensor<1x8x4x30xf32>
// CHECK:         scf.for %[[ROW:.*]] = %{{.*}} to %c2{{.*}} step
// CHECK:           scf.for %{{.*}} = %c5{{.*}} to %c20{{.*}} step %c5
// CHECK:             tensor.extract %arg0[{{.*}}] : tensor<1x8x2x28xf32>
// CHECK:           scf.yield
func.func @two_widths(%x: tensor<1x8x2x28xf32>) -> tensor<1x16x2x28xf32> {
  %w = arith.constant dense<0.5> : tensor<16x8x3x3xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x2x28xf32>, tensor<16x8x3x3xf32>) -> tensor<1x16x2x28xf32>
  return %y : tensor<1x16x2x28xf32>
}

// -----

// f32 with the pixel tiles outermost (the input outweighs the weights) is
// row-tiled too: one output row per forall iteration, its channel blocks
// and tiles inside, the input read in place.
// CHECK: remark: [Passed] ConvToVector {{.*}}16 output channels x 5 pixels per register tile, pixel-tile loop outermost, row tiles (8 per row, 6 in a loop) that skip the padding taps
// CHECK-LABEL: func.func @pixels_outermost
// CHECK-NOT:     tensor<1x8x12x42xf32>
// CHECK:         scf.forall (%{{.*}}, %[[ROW:.*]]) in (1, 10)
// CHECK:           scf.for %{{.*}} = %c5{{.*}} to %c35{{.*}} step %c5
// CHECK:             tensor.extract %arg0[{{.*}}] : tensor<1x8x10x40xf32>
func.func @pixels_outermost(%x: tensor<1x8x10x40xf32>) -> tensor<1x16x10x40xf32> {
  %w = arith.constant dense<0.5> : tensor<16x8x3x3xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x8x10x40xf32>, tensor<16x8x3x3xf32>) -> tensor<1x16x10x40xf32>
  return %y : tensor<1x16x10x40xf32>
}

// -----

// Not row-tiled: f32 with the pixel tiles outermost at column stride 2
// (ResNet-18's conv1 shape ran slower so): flat tiles on a padded copy.
// CHECK: remark: [Passed] ConvToVector {{.*}}16 output channels x 6 pixels per register tile, pixel-tile loop outermost"
// CHECK-LABEL: func.func @stride2_pixels_outermost
// CHECK:         scf.forall {{.*}} -> (tensor<1x3x29x29xf32>)
// CHECK-NOT:     arith.maxsi
func.func @stride2_pixels_outermost(%x: tensor<1x3x23x23xf32>) -> tensor<1x16x12x12xf32> {
  %w = arith.constant dense<0.5> : tensor<16x3x7x7xf32>
  %y = qfuse.conv %x, %w {strides = array<i64: 2, 2>, padding = array<i64: 3, 3, 3, 3>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x23x23xf32>, tensor<16x3x7x7xf32>) -> tensor<1x16x12x12xf32>
  return %y : tensor<1x16x12x12xf32>
}
