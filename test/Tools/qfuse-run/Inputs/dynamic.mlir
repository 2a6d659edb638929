func.func @f(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  %0 = qfuse.relu %x : tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}
