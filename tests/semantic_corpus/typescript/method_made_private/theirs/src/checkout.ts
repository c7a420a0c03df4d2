import { Cart } from "./cart";

export const due = new Cart().recalc();
