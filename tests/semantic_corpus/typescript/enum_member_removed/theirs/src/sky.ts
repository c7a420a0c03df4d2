import { Color } from "./color";

export const sky: Color = Color.Blue;
