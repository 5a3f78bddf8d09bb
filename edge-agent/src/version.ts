// The agent's own version, compared with a bundle's runtime.minAgentVersion (SPEC §10.2 R3).

/** Semantic version of this agent; kept equal to edge-agent/package.json. */
export const AGENT_VERSION = '0.1.0';
