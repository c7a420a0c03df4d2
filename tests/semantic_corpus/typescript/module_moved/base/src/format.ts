export function title(s: string): string {
  return s.toUpperCase();
}
