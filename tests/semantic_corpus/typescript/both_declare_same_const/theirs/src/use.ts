import { A, LIMIT } from "./index";

export const x = A + LIMIT;
