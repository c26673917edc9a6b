// Kept for callers outside the write path (GET /v1/host): the problem a kernel refusal maps to.
export { kernelError } from './pipeline/run.js';
