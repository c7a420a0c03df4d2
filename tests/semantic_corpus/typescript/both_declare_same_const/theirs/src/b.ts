export const B = 2;
export const LIMIT = 20;
