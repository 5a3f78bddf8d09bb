// Type-checked against the installed tarballs' .d.ts (the app's own tsconfig, not the repository's).
import { createAgent, isAgentError, type Agent, type ModelInfo, type Prediction } from '@flotilla/edge-agent';
import { createBrowserAgent, type BrowserAgentOptions } from '@flotilla/edge-agent/browser';
import { packBundle, type PackInput } from '@flotilla/firmware-bundler';

export async function use(dataDir: string, key: string): Promise<[ModelInfo, Prediction, boolean]> {
  const agent: Agent = await createAgent({ deviceId: 'typed-1', offline: true, dataDir, trustedKeys: [key] });
  const model = await agent.ready({ timeoutMs: 1000 });
  const p = await agent.predict([1, 2, 3]);
  return [model, p, isAgentError(new Error('x'), 'AGENT_NO_MODEL')];
}

export const browserOptions: BrowserAgentOptions = { deviceId: 'b', offline: true, trustedKeys: [] };
export const builders = { createBrowserAgent, packBundle };
export type Input = PackInput;
