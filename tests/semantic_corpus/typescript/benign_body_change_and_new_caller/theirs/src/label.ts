import { count } from "./count";

export const label = count([1, 2]).padStart(3, "0");
