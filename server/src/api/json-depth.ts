// How deeply a JSON text nests, found in one linear pass before JSON.parse sees it: a parse or a later
// JSON.stringify of 100,000 nested arrays overflows the stack (a 500, and a stored policy that breaks
// every later write), so the depth is refused first.

/** True when `text` opens more than `max` arrays or objects inside each other (brackets in strings do not count). */
export function jsonNestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character, a quote included
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}
