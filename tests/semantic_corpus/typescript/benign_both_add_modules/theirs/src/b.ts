import { core } from "./core";

export const b = core + 2;
