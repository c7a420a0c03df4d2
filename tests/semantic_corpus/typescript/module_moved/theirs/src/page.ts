import { title } from "./format";

export const heading = title("home");
