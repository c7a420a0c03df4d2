export interface Options {
  url: string;
  retries: number;
}

export function connect(o: Options): string {
  return o.url + o.retries;
}
