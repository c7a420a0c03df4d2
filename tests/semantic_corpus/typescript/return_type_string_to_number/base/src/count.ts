export function count(xs: unknown[]): string {
  return String(xs.length);
}
