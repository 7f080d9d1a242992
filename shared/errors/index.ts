export { StreamingCode, streamingCodeName, parseStreamingCode } from './streaming-code.js';
export { StreamingError, asStreamingError, isStreamingError } from './streaming-error.js';
