import { greet } from "./greet";

export const line = greet("ann");
