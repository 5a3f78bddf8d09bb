// Hostile payload paths for tests: each must be refused with BUNDLE_PATH_INVALID (SPEC §7).

/** Path tricks: traversal, absolute and drive paths, separators, NUL, device names, Unicode look-alikes, overlong names. */
export const PATH_TRICKS: readonly string[] = [
  '', '.', '..', '../evil', 'a/../../evil', 'a/./b', '/etc/passwd', '//server/share', 'a//b', 'a/', '/a',
  'C:\\evil', 'C:evil', 'a\\..\\evil', '..\\evil', 'a\u0000b', 'evil.', 'a/b./c', 'CON', 'nul.txt', 'com1', 'LPT9.bin',
  'a b', 'ü.bin', 'a\nb', 'a/b/c/d/e/f/g/h/i', 'x'.repeat(256), 'y'.repeat(129), '~/x', '$HOME', 'a:b', 'a*b', '\u2024\u2024/x',
  '..%2fevil', '\u002e\u002e/evil', 'a/\u2215evil',
];
