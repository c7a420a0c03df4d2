export function count(xs: unknown[]): number {
  return xs.length;
}
