// What a module names as its dependencies, for the import-rule tests (boundaries.test.ts,
// runtime/ and web/boundaries.test.ts): static imports and re-exports (type-only ones too),
// side-effect imports, and literal dynamic imports.
export function specifiers(src: string): string[] {
  const found = [
    ...src.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...src.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => m[1]);
}
