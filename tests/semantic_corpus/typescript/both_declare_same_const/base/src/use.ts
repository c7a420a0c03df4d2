import { A } from "./index";

export const x = A;
