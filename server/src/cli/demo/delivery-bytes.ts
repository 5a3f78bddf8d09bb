// Bytes the server really sent to devices, from its own /metrics counter (HTTP and MQTT chunk transfers together):
// measured, not bundle size times devices, so resumed, repeated or skipped downloads show.

/** Sum of `flotilla_chunk_bytes_served_total` over its transports. */
export async function bytesServed(server: string, token: string): Promise<number> {
  const res = await fetch(`${server}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith('flotilla_chunk_bytes_served_total'))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
}
