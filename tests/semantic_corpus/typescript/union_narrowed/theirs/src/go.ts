import { run } from "./mode";

export const result = run("fast");
