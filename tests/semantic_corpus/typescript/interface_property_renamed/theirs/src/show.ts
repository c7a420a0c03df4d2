import { make } from "./user";

export function show(n: string): string {
  return make(n).name.toUpperCase();
}
