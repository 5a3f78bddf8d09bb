// The fleet numbers the overview shows, each counted by the server (no device list is ever downloaded whole).
import { countDevices, listBundles, listDevices } from '../api/fleet.ts';
import { listModels } from '../api/registry.ts';

export interface FleetSummary {
  total: number;
  online: number;
  /** Devices per reported `model@version`, largest first; `none` for devices that run no model yet. */
  versions: { version: string; devices: number }[];
}

/**
 * Versions that can be out there: every bundle made (devices report the bundle's `name@semver`), the
 * registry's default semver for each model version, and whatever the first page of devices reports.
 * Each is then counted by the server; devices on a version none of these name are counted as "other".
 */
async function candidates(): Promise<string[]> {
  const [bundles, models, sample] = await Promise.all([
    listBundles({ limit: 200 }).catch(() => []),
    listModels().catch(() => []),
    listDevices({ limit: 200 }).then(
      (p) => p.devices,
      () => [],
    ),
  ]);
  const out = new Set<string>();
  for (const b of bundles) out.add(`${b.model}@${b.version}`);
  for (const m of models) for (let v = Math.max(1, m.latestVersion - 4); v <= m.latestVersion; v++) out.add(`${m.name}@${v}.0.0`);
  for (const d of sample) if (d.modelVersion) out.add(d.modelVersion);
  return [...out];
}

export async function loadFleetSummary(): Promise<FleetSummary> {
  const [total, online, names] = await Promise.all([countDevices({}), countDevices({ online: 'true' }), candidates()]);
  const counts = await Promise.all([...names, 'none'].map((m) => countDevices({ model: m }).then((n) => ({ version: m, devices: n }))));
  const versions = counts.filter((c) => c.devices > 0).sort((a, b) => b.devices - a.devices);
  const known = versions.reduce((n, v) => n + v.devices, 0);
  if (known < total) versions.push({ version: 'other', devices: total - known });
  return { total, online, versions };
}
