// The wire protocol between server and agents (WIRE.md): topics, message schemas, chunk framing, envelopes, enrollment.
export * from './topics.ts';
export * from './messages.ts';
export * from './update-policy.ts';
export * from './chunk-frame.ts';
export * from './base64.ts';
export * from './envelope.ts';
export * from './enroll.ts';
