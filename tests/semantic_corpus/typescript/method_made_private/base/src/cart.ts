export class Cart {
  total = 0;
  recalc(): number {
    return this.total;
  }
}
