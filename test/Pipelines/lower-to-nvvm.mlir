// --qfuse-lower-to-nvvm: a fused conv (+bias+relu) becomes one GPU kernel
// (the tiled schedule: shared-memory staging, barriers, fused multiply-adds)
// serialized to PTX (format isa: no CUDA needed); a fake_quant becomes a flat
// kernel of 256-thread blocks.
// RUN: qfuse-opt %s --qfuse-lower-to-nvvm | FileCheck %s
// RUN: qfuse-opt %s --qfuse-lower-to-nvvm | FileCheck %s --check-prefix=CONV
// RUN: qfuse-opt %s --qfuse-lower-to-nvvm | FileCheck %s --check-prefix=FQ
// RUN: qfuse-opt %s --pass-pipeline='builtin.module(qfuse-lower-to-nvvm{chip=sm_90 features=+ptx80})' | FileCheck %s --check-prefix=SM90
// RUN: qfuse-opt %s --pass-pipeline='builtin.module(qfuse-lower-to-nvvm{tiled-conv=false})' | FileCheck %s --check-prefix=FLAT --implicit-check-not=.shared

// CHECK-NOT: qfuse.
// CHECK-LABEL: llvm.func @conv_bias_relu
// CHECK: gpu.launch_func @conv_bias_relu_kernel::@conv_bias_relu_kernel blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%{{.*}}, %{{.*}}, %{{.*}})
// CHECK-NOT: gpu.launch_func
// CHECK-LABEL: llvm.func @fq
// CHECK: gpu.launch_func @fq_kernel::@fq_kernel
// CONV: gpu.binary @conv_bias_relu_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// CONV-SAME: .target sm_80
// CONV-SAME: .maxntid 32, 4, 1
// CONV-SAME: .shared .align {{[0-9]+}} .b8
// CONV-SAME: bar.sync
// CONV-SAME: ld.shared
// CONV-SAME: fma.rn.f32
// CONV-SAME: max.NaN.f32
// FQ: gpu.binary @fq_kernel
// FQ-SAME: .maxntid 256, 1, 1
// FQ-SAME: cvt.rni.f32.f32
// SM90: #nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// SM90-SAME: .target sm_90
// SM90-SAME: bar.sync
// SM90-SAME: fma.rn.f32
// Without the schedule the conv is several flat kernels (bias, correlation,
// activation), and nothing is staged in shared memory.
// FLAT: gpu.launch_func @conv_bias_relu_kernel::
// FLAT: gpu.launch_func @conv_bias_relu_kernel_0::
// FLAT: fma.rn.f32
func.func @conv_bias_relu(%x: tensor<1x8x16x16xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x16x16xf32> {
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x8x16x16xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  return %0 : tensor<1x16x16x16xf32>
}

func.func @fq(%x: tensor<2x16x8x8xf32>, %s: tensor<16xf32>, %zp: tensor<16xi32>) -> tensor<2x16x8x8xf32> {
  %0 = qfuse.fake_quant %x, %s, %zp {axis = 1 : i64, quant_min = -128 : i64, quant_max = 127 : i64} : (tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xi32>) -> tensor<2x16x8x8xf32>
  return %0 : tensor<2x16x8x8xf32>
}
