/** A build's result → an image in the store, OCI/docker tars, a local directory or tar. */
export { recordBuiltImage, type BuiltImage, type RecordBuiltImageOptions } from './image-from-build.ts';
export { parseOutput, writeOutput, type BuildOutput, type OutputImage } from './outputs.ts';
export { convertImage, imageForm, needsConversion, type ConvertOptions, type ImageForm } from './convert-image.ts';
export { exportImages, type ExportImagesOptions } from './export-images.ts';
