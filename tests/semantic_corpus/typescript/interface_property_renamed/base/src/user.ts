export interface User {
  name: string;
}

export function make(n: string): User {
  return { name: n };
}
