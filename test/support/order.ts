import { expect } from 'vitest';

/** An item equal to a string, or one a pattern matches. */
export type ItemMatcher = string | RegExp;

/**
 * Fails unless `first` and `then` are both in `list` and the first item matching `first` comes
 * before the first item matching `then`. A bare `indexOf(a) < indexOf(b)` passes when `a` is
 * missing (−1), so an ordering check could never fail on the thing it is about being absent.
 */
export function expectOrder(list: readonly string[], first: ItemMatcher, then: ItemMatcher): void {
  const indexOf = (matcher: ItemMatcher) => list.findIndex((entry) => (typeof matcher === 'string' ? entry === matcher : matcher.test(entry)));
  const [a, b] = [indexOf(first), indexOf(then)];
  expect(a, `${String(first)} is in the list`).toBeGreaterThanOrEqual(0);
  expect(b, `${String(then)} is in the list`).toBeGreaterThanOrEqual(0);
  expect(a, `${String(first)} comes before ${String(then)}`).toBeLessThan(b);
}
