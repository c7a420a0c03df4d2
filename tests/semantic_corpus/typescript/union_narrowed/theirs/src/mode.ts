export type Mode = "slow" | "fast";

export function run(mode: Mode): string {
  return mode;
}
