import { core } from "./core";

export const a = core + 1;
