export const core = 2;
