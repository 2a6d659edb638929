// Input model of errors.test (not a test itself).
func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = qfuse.relu %x : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
