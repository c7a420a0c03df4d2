export type Mode = "slow" | "safe";

export function run(mode: Mode): string {
  return mode;
}
