export function count(xs: unknown[]): string {
  return `${xs.length}`;
}
