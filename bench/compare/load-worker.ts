// Worker-thread entry of the load generator: runs the cell in workerData, posts its result.
import { parentPort, workerData } from 'node:worker_threads';
import { runLoadHere, type LoadSpec } from './load.js';

const result = await runLoadHere(workerData as LoadSpec);
parentPort!.postMessage(result);
