import { find } from "./find";

export const first = find(0).name;
