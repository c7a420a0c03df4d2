export const A = 1;
export const LIMIT = 10;
