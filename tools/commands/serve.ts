// m2fn serve: the HTTP scoring service (tools/serve/server.ts) over a model directory, until
// SIGINT/SIGTERM, on which it stops accepting, answers what it admitted and exits.
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../../runtime/execution.ts';
import { load } from '../../runtime/node.ts';
import { startServer } from '../serve/server.ts';
import { webPageMounts } from '../serve/web.ts';
import { defineCommand } from './command.ts';

const positiveInteger = (name: string, v: number | undefined) => {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer, got ${v}`);
};

export const serveCommand = defineCommand({
  command: 'serve',
  describe: 'HTTP scoring service: POST /score, POST /rank, GET /model, /healthz, /readyz (micro-batched, bounded queue)',
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'model directory (inference.onnx + inference.card.json)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on (0.0.0.0 for every interface)' })
      .option('port', { type: 'number', default: 8080, describe: '0: any free port (the address is printed)' })
      .option('ep', { choices: EXECUTION_PROVIDERS, default: 'cpu' as ExecutionProvider })
      .option('threads', { type: 'number', describe: 'intra-op threads of the cpu provider' })
      .option('max-body', { type: 'number', default: 10 * 1024 * 1024, describe: 'largest request body, bytes (413 beyond)' })
      .option('max-pixels', { type: 'number', describe: 'pixel limit for images (at most the card\'s preprocessing.maxPixels)' })
      .option('max-queue', { type: 'number', default: 64, describe: 'requests admitted at once; beyond, 503 with Retry-After' })
      .option('max-batch', { type: 'number', default: 16, describe: 'most images in one model run' })
      .option('batch-window', { type: 'number', default: 0, describe: 'ms a batch that is not full waits for more requests' })
      .option('request-timeout', { type: 'number', default: 10_000, describe: 'ms for a whole request to arrive (408 after)' })
      .option('web', { type: 'boolean', default: false, describe: 'also serve the scoring web page (web/) and the model it loads, at /' })
      .example('$0 serve --model out/demo/run --web', 'the service and the web page on http://127.0.0.1:8080/'),
  handler: async (a) => {
    for (const k of ['threads', 'max-body', 'max-pixels', 'max-queue', 'max-batch', 'request-timeout'] as const) positiveInteger(k, a[k]);
    if (!(Number.isInteger(a.port) && a.port >= 0 && a.port < 65536)) throw new Error(`--port must be 0 (any free port) to 65535, got ${a.port}`);
    if (!(a['batch-window'] >= 0)) throw new Error(`--batch-window must be a non-negative number of ms, got ${a['batch-window']}`);
    const scorer = await load(a.model, { ep: a.ep, threads: a.threads });
    const service = await startServer(scorer, {
      host: a.host, port: a.port, maxBodyBytes: a['max-body'], maxPixels: a['max-pixels'], maxQueue: a['max-queue'],
      maxBatch: a['max-batch'], batchWindowMs: a['batch-window'], requestTimeoutMs: a['request-timeout'], static: a.web ? webPageMounts(a.model) : undefined,
    });
    console.error(`m2fn serve: model "${scorer.card.model}" on ${scorer.ep}, listening on ${service.url}`);
    await new Promise<void>((ok) => {
      const stop = (signal: string) => {
        console.error(`m2fn serve: ${signal}, finishing ${service.stats().inFlight} requests in progress`);
        ok();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await service.close();
    await scorer.close();
    console.error('m2fn serve: stopped');
  },
});
