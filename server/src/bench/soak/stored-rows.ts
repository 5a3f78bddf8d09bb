// What one device left in the server's SQLite files: its rows per table (every table with a `device_id`
// column), read read-only from the data folder at the end of a soak. The soak's disk figure grows with the
// honest fleet's data; this says how much of it the hostile device got in (its own presence events, capped
// per device, and nothing else).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** Rows whose `device_id` is `deviceId`, per table that has any (a table in two files adds up). */
export function rowsOfDevice(dataDir: string, deviceId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const file of readdirSync(dataDir).filter((f) => f.endsWith('.db'))) {
    const db = new Database(join(dataDir, file), { readonly: true, fileMustExist: true });
    try {
      const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
      for (const { name } of tables) {
        const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[];
        if (!cols.some((c) => c.name === 'device_id')) continue;
        const { n } = db.prepare(`SELECT COUNT(*) AS n FROM "${name.replaceAll('"', '""')}" WHERE device_id = ?`).get(deviceId) as {
          n: number;
        };
        if (n > 0) out[name] = (out[name] ?? 0) + n;
      }
    } finally {
      db.close();
    }
  }
  return out;
}
