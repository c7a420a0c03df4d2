export interface Options {
  url: string;
}

export function connect(o: Options): string {
  return o.url;
}
