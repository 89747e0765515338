/** Models (functional and sequential), summaries, saving and loading. The zoo is `convkit.zoo`. */
export { Model, Sequential, sequential, model, type ModelArgs, type SequentialOpts, type PredictOpts, type LayerSelector } from './model.js';
export { input, SymbolicTensor } from '../layers/symbolic.js';
export { fitDataset, type FitOptions } from './fit.js';
export { formatSummary, type ModelSummary, type SummaryLayer, type SummaryOptions } from './summary.js';
export {
  loadModel, saveModel, encodeModel, decodeModel, memoryHandler, browserLocalStorage, browserIndexedDB, fromFetch, fileSystemHandler,
  MODEL_FORMAT, ModelFormatError, type SaveOptions, ModelNotFoundError, type IOHandler, type ModelArtifacts, type ModelJSON, type SaveResult, type WeightsManifestEntry, type MemoryHandler, type StorageLike, type IDBFactoryLike,
} from './io.js';
export { encodeOnnx, exportOnnx, toOnnxModel, OnnxExportError, ONNX_LAYOUT_KEY, type EncodeOnnxOptions, type OnnxInputLayout } from './onnx/export.js';
export { loadOnnx, isOnnx, OnnxImportError, type OnnxImportOptions, type OnnxImportMode } from './onnx/import.js';
export { OnnxGraphModel, type GraphInputSpec } from './onnx/graph_model.js';
export { encodeTfjsLayers, type EncodeTfjsOptions, type TfjsArtifacts } from './tfjs_layers/write.js';
export { decodeTfjsLayers, isTfjsLayersJSON, TFJS_LAYERS_FORMAT, type TfjsModelJSON } from './tfjs_layers/read.js';
export { KerasConfigError, KERAS_LAYERS } from './tfjs_layers/keras_config.js';
