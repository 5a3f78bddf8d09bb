// The fleet numbers the overview shows, each counted by the server (no device list is ever downloaded whole).
import { countDevices, listBundles } from '../api/fleet.ts';

export interface FleetSummary {
  total: number;
  online: number;
  /** Devices per reported `model@version`, largest first; `none` for devices that run no model yet. */
  versions: { version: string; devices: number }[];
}

export async function loadFleetSummary(): Promise<FleetSummary> {
  const [total, online, bundles] = await Promise.all([countDevices({}), countDevices({ online: 'true' }), listBundles({ limit: 100 }).catch(() => [])]);
  // Devices report the bundle's `name@semver`; the bundles made so far name every version that can be out there.
  const names = [...new Set(bundles.map((b) => `${b.model}@${b.version}`)), 'none'];
  const counts = await Promise.all(names.map((m) => countDevices({ model: m }).then((n) => ({ version: m, devices: n }))));
  const versions = counts.filter((c) => c.devices > 0).sort((a, b) => b.devices - a.devices);
  const known = versions.reduce((n, v) => n + v.devices, 0);
  if (known < total) versions.push({ version: 'other', devices: total - known });
  return { total, online, versions };
}
