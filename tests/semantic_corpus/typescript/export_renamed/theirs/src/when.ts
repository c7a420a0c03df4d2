import { parseDate } from "./dates";

export const when = parseDate("2020-01-01");
