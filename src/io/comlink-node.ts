import type { Endpoint } from 'comlink'
import nodeEndpointModule from 'comlink/dist/umd/node-adapter.js'
import type { MessagePort, Worker } from 'node:worker_threads'

/**
 * comlink's Node adapter (worker_threads ports → comlink endpoints). comlink ships it as UMD,
 * which sets `module.exports` to the function: at runtime the default import *is* the function,
 * while TypeScript (reading its ESM-style .d.ts as CommonJS) types it as the module object.
 */
export const nodeEndpoint = nodeEndpointModule as unknown as (port: MessagePort | Worker) => Endpoint
