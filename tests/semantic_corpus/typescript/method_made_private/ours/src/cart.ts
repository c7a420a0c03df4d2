export class Cart {
  total = 0;
  private recalc(): number {
    return this.total;
  }
  sum(): number {
    return this.recalc();
  }
}
