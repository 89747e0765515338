// Entry of the convkit WASM module: re-exports every kernel file. Built twice
// (asconfig.json targets "simd" and "relaxed"); ASC_FEATURE_RELAXED_SIMD picks the
// relaxed-SIMD micro-kernels at compile time. Pointers are byte offsets into the
// imported memory; sizes are element counts.
export * from './memory';
export * from './gemm_f32_ref';
export { gemm_f32_workspace_bytes, gemm_f32_mr, gemm_f32_nr, gemm_f32_kc, gemm_f32_mc, gemm_f32_nc } from './gemm_config';
export { gemm_f32 } from './gemm_f32';
export { conv_forward_f32, conv_forward_fused_f32, conv_forward_parts_f32, conv_forward_path_f32, conv_backprop_input_prepare_f32, conv_backprop_input_f32, conv_backprop_input_scratch_bytes, conv_backprop_input_path_f32, conv_backprop_filter_f32, conv_backprop_filter_path_f32,
  conv_forward_applies_f32, conv_backprop_input_applies_f32, conv_backprop_filter_applies_f32 } from './conv_f32';
export { conv_winograd_filter_f32, conv_winograd_filter_bytes, conv_winograd_dw_partial_bytes, winograd_dw_reduce_f32 } from './conv_winograd_f32';
export { conv_direct_f32_tile_pixels, conv_direct_f32_max_taps, conv_direct_filter_f32_tile_taps } from './conv_direct_f32';
export * from './elementwise_f32';
export * from './reduce_f32';
export * from './shape_f32';
export * from './pool_f32';
export * from './activation_f32';
export * from './softmax_f32';
export * from './softmax_xent_f32';
export * from './batch_norm_f32';
export * from './lrn_f32';
export * from './optim_f32';
