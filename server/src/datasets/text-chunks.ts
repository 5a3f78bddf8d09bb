// Turns an upload (bytes or strings, Node or web stream) into UTF-8-checked text chunks without a BOM.
import { DatasetError } from './dataset-error.ts';

/** What an import reads from: any async iterable of byte or string chunks, e.g. a file or request stream. */
export type CsvSource = AsyncIterable<Uint8Array | string> | NodeJS.ReadableStream;

/**
 * Yields the source's text chunk by chunk. Bytes must be UTF-8 (invalid sequences throw
 * `CSV_BAD_ENCODING`; a character split across chunks is joined); one leading BOM is dropped.
 */
export async function* textChunks(source: CsvSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let first = true;
  let offset = 0; // bytes decoded so far, for the error message
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
    } else {
      text = decode(decoder, chunk, true, offset);
      offset += chunk.byteLength;
    }
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text) yield text;
  }
  const rest = decode(decoder, new Uint8Array(0), false, offset);
  if (rest) yield rest;
}

function decode(decoder: TextDecoder, bytes: Uint8Array, stream: boolean, offset: number): string {
  try {
    return decoder.decode(bytes, { stream });
  } catch {
    throw new DatasetError('CSV_BAD_ENCODING', `the file is not valid UTF-8 (near byte ${offset})`, { nearByte: offset });
  }
}
