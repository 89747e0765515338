/** The classic vision applications: detection, faces, style transfer, visualisation. */
export * from './detection.js';
export * from './face.js';
export * from './style.js';
export * from './visualize.js';
