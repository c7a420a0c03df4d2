import { connect } from "./options";

export const conn = connect({ url: "x" });
