// Worker-thread entry of the load generator: runs the cell in workerData, posts its result.
import { parentPort, workerData } from 'node:worker_threads';
import { runLoadHere, type LoadSpec } from './load.js';

// Loaded and about to start: the parent measures CPU from here, not from the thread's start-up.
parentPort!.postMessage('ready');
const result = await runLoadHere(workerData as LoadSpec);
parentPort!.postMessage(result, result.samples ? [result.samples.buffer as ArrayBuffer] : []);
