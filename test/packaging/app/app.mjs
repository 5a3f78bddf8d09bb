// A Node app outside the repository using the installed tarballs: plain `node app.mjs`, no tsx, no build.
// argv: bundle file, trusted key (hex), data folder, input row (JSON). Prints one JSON line.
import { readFileSync } from 'node:fs';
import { createAgent } from '@flotilla/edge-agent';

const [bundleFile, trustedKey, dataDir, rowJson] = process.argv.slice(2);
const agent = await createAgent({ deviceId: 'app-node-1', offline: true, dataDir, trustedKeys: [trustedKey] });
const modelAtStart = agent.model;
// The documented wait: a fresh device has no model until the first install (or server update) passes.
const ready = agent.ready({ timeoutMs: 30_000 });
const installed = await agent.install(readFileSync(bundleFile));
const model = await ready;
const p = await agent.predict(JSON.parse(rowJson));
const fed = agent.feedback(p.predictionId, p.top1);
const events = [];
agent.on('model', (e) => events.push(e));
await agent.close();
console.log(
  JSON.stringify({ modelAtStart, installed: installed.ok, model, top1: p.top1, y: Array.from(p.outputs.y), fed, eventsOnClose: events }),
);
