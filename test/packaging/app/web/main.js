// A page of an app outside the repository: the agent's browser entry, resolved and bundled by Vite.
import { createBrowserAgent } from '@flotilla/edge-agent/browser';

window.runAgent = async (bundleUrl, trustedKey, row) => {
  const agent = await createBrowserAgent({ deviceId: 'app-page-1', offline: true, trustedKeys: [trustedKey] });
  const ready = agent.ready({ timeoutMs: 30_000 });
  const bytes = new Uint8Array(await (await fetch(bundleUrl)).arrayBuffer());
  const installed = await agent.install(bytes);
  const model = await ready;
  const p = await agent.predict(row);
  const fed = agent.feedback(p.predictionId, p.top1);
  await agent.close();
  return { installed: installed.ok, model, top1: p.top1, y: Array.from(p.outputs.y), fed };
};
