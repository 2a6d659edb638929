// --qfuse-lower-to-nvvm{format=bin|fatbin}: the kernels assembled by the
// toolkit's ptxas (CUDA_HOME) into a cubin (an ELF) or wrapped in a fatbin
// (magic 0xBA55ED50), instead of PTX text.
// REQUIRES: ptxas
// RUN: qfuse-opt %s --pass-pipeline='builtin.module(qfuse-lower-to-nvvm{format=bin chip=sm_90})' | FileCheck %s --check-prefix=BIN
// RUN: qfuse-opt %s --pass-pipeline='builtin.module(qfuse-lower-to-nvvm{format=fatbin chip=sm_80})' | FileCheck %s --check-prefix=FATBIN
// BIN: gpu.binary @conv_bias_relu_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {{.*}}, bin = "\7FELF
// FATBIN: gpu.binary @conv_bias_relu_kernel [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">, properties = {{.*}}, "P\EDU\BA
func.func @conv_bias_relu(%x: tensor<1x8x16x16xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x16x16xf32> {
  %0 = qfuse.conv %x, %w, %b {strides = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, activation = #qfuse.activation<relu>} : (tensor<1x8x16x16xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  return %0 : tensor<1x16x16x16xf32>
}
