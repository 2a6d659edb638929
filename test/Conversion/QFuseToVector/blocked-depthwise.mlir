// Depthwise convolution on channel-blocked activations (nChw8c,
// [N, C/8, H, W, 8]): where the input comes from a linalg.unpack of 8-channel
// blocks and the result's one use is a linalg.pack into them, the kernel
// reads and writes the blocks and neither relayout is left. One vector is
// one pixel's 8 channels, so each tap is one FMA by that tap's 8 weights
// (gathered once per block), at any stride; a register tile is 4 adjacent
// output pixels, whose taps read each input column once. Rows and column
// tiles that touch the padding are static and multiply zeros there.
// RUN: qfuse-opt %s --convert-qfuse-to-vector --canonicalize --cse -split-input-file --remarks-filter=vectorize --remark-format=emitRemark -verify-diagnostics | FileCheck %s --implicit-check-not=qfuse.prefetch --implicit-check-not=nontemporal
// Layers that stream from memory (here forced by the thresholds; by default
// inputs over 8 MiB, and input and output together over 32 MiB): prefetches
// ahead of the reads, non-temporal stores and a fence per work item.
// RUN: qfuse-opt %s --convert-qfuse-to-vector="prefetch-min-bytes=0 nontemporal-min-bytes=1" --canonicalize --cse -split-input-file --remarks-filter=vectorize --remark-format=emitRemark -verify-diagnostics | FileCheck %s --check-prefix=STREAM

// 40 outputs per row: column tile 0 touches the left padding (static),
// tiles 1..8 (ow0 = 4 .. 32) run in a loop, tile 9 touches the right
// padding. Per interior tile: 3 tap rows of 6 columns, 18 reads for the 4
// pixels' 36 taps, then 4 stores.
// CHECK-LABEL: func.func @stride1
// CHECK-SAME:    (%[[X5:.*]]: tensor<1x2x6x40x8xf32>, %[[W:.*]]: tensor<16x1x3x3xf32>, %[[B:.*]]: tensor<16xf32>) -> tensor<1x2x6x40x8xf32>
// CHECK:         %[[OUT:.*]] = tensor.empty() : tensor<1x2x6x40x8xf32>
// CHECK:         scf.forall (%[[CB:.*]]) in (2) shared_outs(%[[SH:.*]] = %[[OUT]])
// CHECK:           %[[IN:.*]] = tensor.extract_slice %[[X5]][0, %[[CB]], 0, 0, 0] [1, 1, 6, 40, 8] [1, 1, 1, 1, 1] : tensor<1x2x6x40x8xf32> to tensor<6x40x8xf32>
// CHECK:           %[[C0:.*]] = arith.muli %[[CB]], %c8
// CHECK:           tensor.extract %[[W]][%[[C0]], %c0, %c0, %c0]
// CHECK-COUNT-9:   vector.from_elements
// CHECK:           vector.transfer_read %[[B]][%[[C0]]]
// CHECK:           scf.for %[[OH:.*]] = %c1 to %c5 step %c1
// CHECK:             scf.for %[[OW:.*]] = %c4 to %c36 step %c4
// CHECK-COUNT-18:      vector.transfer_read %[[IN]]
// CHECK-NOT:           vector.transfer_read
// CHECK-COUNT-4:       vector.transfer_write
// CHECK:               scf.yield
// CHECK:           tensor.parallel_insert_slice %{{.*}} into %[[SH]][0, %[[CB]], 0, 0, 0] [1, 1, 6, 40, 8] [1, 1, 1, 1, 1] : tensor<6x40x8xf32> into tensor<1x2x6x40x8xf32>
// CHECK-NOT:     linalg.unpack
// CHECK-NOT:     linalg.pack
// An interior tile of 4 pixels at stride 1 prefetches 2 lines (its 4 new
// columns of 8 channels), 26 rows (32 KiB of 1280-byte rows) below its last
// tap row (output row oh reads input rows oh - 1 .. oh + 1: oh + 27,
// clamped to the plane's last row, 5), then writes its 4 pixels
// non-temporally.
// STREAM-LABEL: func.func @stride1
// STREAM:         scf.forall
// STREAM:           %[[IN:.*]] = tensor.extract_slice
// STREAM:           scf.for %[[OH:.*]] = %c1 to %c5 step %c1
// STREAM:             %[[AHEAD:.*]] = arith.addi %[[OH]], %c27
// STREAM:             %[[ROW:.*]] = arith.minsi %[[AHEAD]], %c5
// STREAM:             scf.for %[[OW:.*]] = %c4 to %c36 step %c4
// STREAM:               %[[COL:.*]] = arith.addi %[[OW]], %c-1
// STREAM:               qfuse.prefetch %[[IN]][%[[ROW]], %[[COL]], %c0] {locality = 3 : i32}
// STREAM:               %[[COL2:.*]] = arith.addi %[[OW]], %c1
// STREAM:               qfuse.prefetch %[[IN]][%[[ROW]], %[[COL2]], %c0] {locality = 3 : i32}
// STREAM-NOT:           qfuse.prefetch
// STREAM-COUNT-18:      vector.transfer_read %[[IN]]
// STREAM-COUNT-4:       qfuse.nontemporal_write
// STREAM-NOT:           vector.transfer_write
// STREAM:               scf.yield
// STREAM:           qfuse.store_fence
// STREAM-NEXT:      scf.forall.in_parallel
// STREAM-NEXT:        tensor.parallel_insert_slice
func.func @stride1(%x5: tensor<1x2x6x40x8xf32>, %w: tensor<16x1x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x2x6x40x8xf32> {
  %e = tensor.empty() : tensor<1x16x6x40xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] into %e : tensor<1x2x6x40x8xf32> -> tensor<1x16x6x40xf32>
  // expected-remark @+1 {{depthwise vector kernel on channel-blocked activations (nChw8c in and out): 4 pixels of 8 channels per register tile}}
  %y = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64, activation = #qfuse.activation<relu>} : (tensor<1x16x6x40xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>) -> tensor<1x16x6x40xf32>
  %e2 = tensor.empty() : tensor<1x2x6x40x8xf32>
  %y5 = linalg.pack %y inner_dims_pos = [1] inner_tiles = [8] into %e2 : tensor<1x16x6x40xf32> -> tensor<1x2x6x40x8xf32>
  return %y5 : tensor<1x2x6x40x8xf32>
}

// -----

// Stride 2: output row 0's first tap row is the top padding, multiplied in
// as zeros (so a NaN weight gives NaN there, as the padded convolution
// does); adjacent pixels share their edge column (read once: 9 reads per
// tap row of 4 pixels).
// CHECK-LABEL: func.func @stride2
// CHECK:         %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK:         scf.forall
// CHECK:           %[[BIAS:.*]] = vector.transfer_read
// CHECK:           vector.fma %[[ZERO]], %{{.*}}, %[[BIAS]]
// CHECK:           scf.for %{{.*}} = %c1 to %c4 step %c1
// CHECK-NOT:     linalg.pack
func.func @stride2(%x5: tensor<1x2x9x10x8xf32>, %w: tensor<16x1x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x2x5x5x8xf32> {
  %e = tensor.empty() : tensor<1x16x9x10xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] into %e : tensor<1x2x9x10x8xf32> -> tensor<1x16x9x10xf32>
  // expected-remark @+1 {{depthwise vector kernel on channel-blocked activations}}
  %y = qfuse.conv %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64, activation = #qfuse.activation<relu>} : (tensor<1x16x9x10xf32>, tensor<16x1x3x3xf32>, tensor<16xf32>) -> tensor<1x16x5x5xf32>
  %e2 = tensor.empty() : tensor<1x2x5x5x8xf32>
  %y5 = linalg.pack %y inner_dims_pos = [1] inner_tiles = [8] into %e2 : tensor<1x16x5x5xf32> -> tensor<1x2x5x5x8xf32>
  return %y5 : tensor<1x2x5x5x8xf32>
}

// -----

// Must not: the result is returned in NCHW (no pack), so the planar kernel
// runs and the unpack stays, for the generic lowering.
// CHECK-LABEL: func.func @unpack_only
// CHECK:         linalg.unpack
// CHECK:         scf.forall (%{{.*}}) in (16)
func.func @unpack_only(%x5: tensor<1x2x6x40x8xf32>, %w: tensor<16x1x3x3xf32>) -> tensor<1x16x6x40xf32> {
  %e = tensor.empty() : tensor<1x16x6x40xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] into %e : tensor<1x2x6x40x8xf32> -> tensor<1x16x6x40xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64} : (tensor<1x16x6x40xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x6x40xf32>
  return %y : tensor<1x16x6x40xf32>
}

// -----

// Must not: blocks of 4 channels, not the kernel's 8.
// CHECK-LABEL: func.func @blocks_of_4
// CHECK:         linalg.unpack
// CHECK:         linalg.pack
func.func @blocks_of_4(%x5: tensor<1x4x6x40x4xf32>, %w: tensor<16x1x3x3xf32>) -> tensor<1x4x6x40x4xf32> {
  %e = tensor.empty() : tensor<1x16x6x40xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [4] into %e : tensor<1x4x6x40x4xf32> -> tensor<1x16x6x40xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64} : (tensor<1x16x6x40xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x6x40xf32>
  %e2 = tensor.empty() : tensor<1x4x6x40x4xf32>
  %y5 = linalg.pack %y inner_dims_pos = [1] inner_tiles = [4] into %e2 : tensor<1x16x6x40xf32> -> tensor<1x4x6x40x4xf32>
  return %y5 : tensor<1x4x6x40x4xf32>
}

// -----

// Must not: 12 channels, whose last block would be padded.
// CHECK-LABEL: func.func @partial_block
// CHECK:         linalg.unpack
// CHECK:         linalg.pack
func.func @partial_block(%x5: tensor<1x2x6x40x8xf32>, %w: tensor<12x1x3x3xf32>) -> tensor<1x2x6x40x8xf32> {
  %e = tensor.empty() : tensor<1x12x6x40xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] into %e : tensor<1x2x6x40x8xf32> -> tensor<1x12x6x40xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 12 : i64} : (tensor<1x12x6x40xf32>, tensor<12x1x3x3xf32>) -> tensor<1x12x6x40xf32>
  %e2 = tensor.empty() : tensor<1x2x6x40x8xf32>
  %zero = arith.constant 0.0 : f32
  %y5 = linalg.pack %y padding_value(%zero : f32) inner_dims_pos = [1] inner_tiles = [8] into %e2 : tensor<1x12x6x40xf32> -> tensor<1x2x6x40x8xf32>
  return %y5 : tensor<1x2x6x40x8xf32>
}

// -----

// Must not: the result is also returned in NCHW beside its packed form.
// CHECK-LABEL: func.func @two_uses
// CHECK:         linalg.pack
func.func @two_uses(%x5: tensor<1x2x6x40x8xf32>, %w: tensor<16x1x3x3xf32>) -> (tensor<1x2x6x40x8xf32>, tensor<1x16x6x40xf32>) {
  %e = tensor.empty() : tensor<1x16x6x40xf32>
  %x = linalg.unpack %x5 inner_dims_pos = [1] inner_tiles = [8] into %e : tensor<1x2x6x40x8xf32> -> tensor<1x16x6x40xf32>
  // expected-remark @+1 {{depthwise vector kernel: 8-wide output-row vectors}}
  %y = qfuse.conv %x, %w {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 16 : i64} : (tensor<1x16x6x40xf32>, tensor<16x1x3x3xf32>) -> tensor<1x16x6x40xf32>
  %e2 = tensor.empty() : tensor<1x2x6x40x8xf32>
  %y5 = linalg.pack %y inner_dims_pos = [1] inner_tiles = [8] into %e2 : tensor<1x16x6x40xf32> -> tensor<1x2x6x40x8xf32>
  return %y5, %y : tensor<1x2x6x40x8xf32>, tensor<1x16x6x40xf32>
}
