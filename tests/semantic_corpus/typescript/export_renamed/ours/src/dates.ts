export function parseDay(s: string): Date {
  return new Date(s);
}
