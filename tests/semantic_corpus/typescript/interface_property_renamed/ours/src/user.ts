export interface User {
  fullName: string;
}

export function make(n: string): User {
  return { fullName: n };
}
