/** The classic vision applications: detection, faces, style transfer, visualisation. */
export * from './detection.js';
export * from './face.js';
export * from './style.js';
export * from './visualize.js';
export * from './shapes.js';
export * from './metrics.js';
export * from './draw.js';
export * from './applications/net.js';
export * from './applications/localization.js';
export * from './applications/detection.js';
export * from './applications/face.js';
export * from './applications/glyphs.js';
