export interface Item {
  name: string;
}

const items: Item[] = [{ name: "a" }];

export function find(i: number): Item | undefined {
  return items[i];
}
