// The quads form of the integer kernel (the VNNI layout), and when each
// target gets it. Host-independent: every RUN names its integer-isa.
// RUN: qfuse-opt %s --convert-qfuse-to-vector=integer-isa=avxvnni -split-input-file --remarks-filter=vectorize --remark-format=emitRemark 2>&1 | FileCheck %s --check-prefix=VNNI
// RUN: qfuse-opt %s --convert-qfuse-to-vector=integer-isa=avx2 -split-input-file --remarks-filter=vectorize --remark-format=emitRemark 2>&1 | FileCheck %s --check-prefix=AVX2

// Full-range int8 input, full-range weights. With VNNI the quads form: the input flipped
// in bit 7 (x + 128 as uint8), four channels per i32, padded spatially with
// the shifted zero point in all four bytes; weights packed [1, 2, 3, 3, 64]
// i8 (8 input channels = 2 quads); the accumulators start at
// bias − zx'·Σw[c] (Σw = 72·127 = 9144); one dot_quads per quad, tap and 8 channels, without the
// int16 promise. On AVX2 a vpmaddubsw pair sum could saturate (255·(127 +
// 127) > 32767), so the pairs form.
// VNNI: remark: [Passed] ConvToVector {{.*}}uint8 x int8 channel quads through qfuse.dot_quads,
// VNNI-LABEL: func.func @full_range
// VNNI: %[[FILL:.*]] = arith.muli %{{.*}}, %c16843009_i32 : i32
// VNNI: arith.constant dense<127> : tensor<1x2x3x3x64xi8>
// VNNI: %[[COMP:.*]] = arith.constant dense<9144> : tensor<16xi32>
// The quads are built and padded (with the zero point's four bytes) in one
// vector pass per (image, quad) plane: four channel rows read as bytes,
// widened, flipped in bit 7 and shifted into place.
// VNNI: scf.forall (%{{.*}}, %{{.*}}) in (1, 2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<1x2x8x8xi32>)
// VNNI:   vector.broadcast %[[FILL]] : i32 to vector<8xi32>
// VNNI:   arith.extui %{{.*}} : vector<6xi8> to vector<6xi32>
// VNNI:   arith.xori
// VNNI:   arith.shli
// VNNI: scf.forall
// VNNI:   vector.transfer_read %[[COMP]]
// VNNI:   arith.muli %{{.*}} : vector<8xi32>
// VNNI:   arith.subi %{{.*}} : vector<8xi32>
// VNNI:   vector.bitcast %{{.*}} : vector<8xi32> to vector<32xi8>
// VNNI:   qfuse.dot_quads %{{.*}}, %{{.*}}, %{{.*}} : vector<8xi32>, vector<32xi8>
// AVX2: remark: [Passed] ConvToVector {{.*}}int16 channel pairs through qfuse.dot_pairs
// AVX2-LABEL: func.func @full_range
// AVX2-NOT: qfuse.dot_quads
func.func @full_range(%x: tensor<1x8x6x6xi8>) -> tensor<1x16x6x6xi8> {
  %w8 = arith.constant dense<127> : tensor<16x8x3x3xi8>
  %b = arith.constant dense<7> : tensor<16xi32>
  %s = arith.constant dense<0.05> : tensor<f32>
  %zx = arith.constant dense<-3> : tensor<i32>
  %z = arith.constant dense<0> : tensor<i32>
  %y = qfuse.qconv %x, %w8 bias(%b) zero_points(%zx, %z) requantize(%s, %s, %s, %z) {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x8x6x6xi8>, tensor<16x8x3x3xi8>, tensor<16xi32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<1x16x6x6xi8>
  return %y : tensor<1x16x6x6xi8>
}

// -----

// 7-bit uint8 input (qfuse.value_range): 127·(127 + 127) fits int16, so
// AVX2 takes the quads form too, with the promise for vpmaddubsw.
// AVX2: remark: [Passed] ConvToVector {{.*}}quads through qfuse.dot_quads (int16 pair sums proven)
// AVX2-LABEL: func.func @seven_bit
// AVX2: qfuse.dot_quads {{.*}} {pairs_fit_i16}
// VNNI-LABEL: func.func @seven_bit
// VNNI: qfuse.dot_quads {{.*}} {pairs_fit_i16}
func.func @seven_bit(%x: tensor<1x8x6x6xi8> {qfuse.uint8, qfuse.value_range = array<i64: 0, 127>}) -> tensor<1x16x4x4xi32> {
  %w8 = arith.constant dense<-127> : tensor<16x8x3x3xi8>
  %z = arith.constant dense<0> : tensor<i32>
  %y = qfuse.qconv %x, %w8 zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, input_uint8} : (tensor<1x8x6x6xi8>, tensor<16x8x3x3xi8>, tensor<i32>, tensor<i32>) -> tensor<1x16x4x4xi32>
  return %y : tensor<1x16x4x4xi32>
}

// -----

// Centred uint8 weights that do not fit int8 (zero point 0, values to 255):
// the pairs form on every ISA.
// VNNI: remark: [Passed] ConvToVector {{.*}}int16 channel pairs
// VNNI-LABEL: func.func @wide_weights
// VNNI-NOT: qfuse.dot_quads
func.func @wide_weights(%x: tensor<1x8x6x6xi8>) -> tensor<1x8x4x4xi32> {
  %w8 = arith.constant dense<-56> : tensor<8x8x3x3xi8>
  %z = arith.constant dense<0> : tensor<i32>
  %y = qfuse.qconv %x, %w8 zero_points(%z, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, input_uint8, weight_uint8} : (tensor<1x8x6x6xi8>, tensor<8x8x3x3xi8>, tensor<i32>, tensor<i32>) -> tensor<1x8x4x4xi32>
  return %y : tensor<1x8x4x4xi32>
}

// -----

// 1x1, stride 1, no padding: the pointwise form of the quads kernel. The
// quads input is read as [N, Cin/4, Q] (8 pixels' words per vector), each
// channel's four weight bytes are one i32 broadcast to all lanes, and the
// requantized pixel vectors are stored as they are (no transpose).
// AVX2: remark: [Passed] ConvToVector {{.*}}integer pointwise vector kernel: 4 output channels x 16 pixels per register tile, uint8 x int8 channel quads
// (The remark is printed before the function, hence before its label.)
// VNNI: remark: [Passed] ConvToVector {{.*}}integer pointwise vector kernel
// VNNI-LABEL: func.func @pointwise
// VNNI:      qfuse.dot_quads %{{.*}} : vector<8xi32>, vector<32xi8>
// AVX2-LABEL: func.func @pointwise
// AVX2:      tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<1x2x4x4xi32> into tensor<1x2x16xi32>
// AVX2:      %[[X:.*]] = vector.transfer_read %{{.*}} : tensor<1x2x16xi32>, vector<8xi32>
// AVX2:      %[[XB:.*]] = vector.bitcast %[[X]] : vector<8xi32> to vector<32xi8>
// AVX2:      %[[WQ:.*]] = vector.transfer_read %{{.*}} : tensor<4x2x1x1x16xi8>, vector<4xi8>
// AVX2:      %[[WW:.*]] = vector.bitcast %[[WQ]] : vector<4xi8> to vector<1xi32>
// AVX2:      %[[W:.*]] = vector.extract %[[WW]][0] : i32 from vector<1xi32>
// AVX2:      %[[WB:.*]] = vector.broadcast %[[W]] : i32 to vector<8xi32>
// AVX2:      %[[WBYTES:.*]] = vector.bitcast %[[WB]] : vector<8xi32> to vector<32xi8>
// AVX2:      qfuse.dot_quads %{{.*}}, %[[XB]], %[[WBYTES]] {pairs_fit_i16} : vector<8xi32>, vector<32xi8>
// AVX2:      math.roundeven %{{.*}} : vector<8xf64>
// AVX2:      vector.transfer_write %{{.*}} : vector<8xi8>, tensor<16x16xi8>
func.func @pointwise(%x: tensor<1x8x4x4xi8> {qfuse.uint8, qfuse.value_range = array<i64: 0, 127>}) -> tensor<1x16x4x4xi8> {
  %w8 = arith.constant dense<-7> : tensor<16x8x1x1xi8>
  %b = arith.constant dense<5> : tensor<16xi32>
  %s = arith.constant dense<0.05> : tensor<f32>
  %z = arith.constant dense<0> : tensor<i32>
  %y = qfuse.qconv %x, %w8 bias(%b) zero_points(%z, %z) requantize(%s, %s, %s, %z) {strides = array<i64: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, input_uint8, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<1x8x4x4xi8>, tensor<16x8x1x1xi8>, tensor<16xi32>, tensor<i32>, tensor<i32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<i32>) -> tensor<1x16x4x4xi8>
  return %y : tensor<1x16x4x4xi8>
}
