export const B = 2;
