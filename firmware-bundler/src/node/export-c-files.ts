// Writing the export-c pair (header and source) into a folder (SPEC §14).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateC, type ExportCInput } from '../export-c/generate-c.ts';

/** Absolute paths of the written `.h` and `.c` files. */
export interface ExportCResult {
  readonly headerFile: string;
  readonly sourceFile: string;
}

/** Generates the C pair for `input` and writes it into `outDir` (created if missing), replacing older ones. */
export async function writeExportC(input: ExportCInput, outDir: string): Promise<ExportCResult> {
  const files = generateC(input);
  await mkdir(outDir, { recursive: true });
  const headerFile = join(outDir, files.headerName);
  const sourceFile = join(outDir, files.sourceName);
  await writeFile(headerFile, files.header);
  await writeFile(sourceFile, files.source);
  return { headerFile, sourceFile };
}
