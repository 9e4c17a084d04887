import { describe, expect, it } from 'vitest';
import { annotationFor } from '../../src/org/config-rule.js';

const DAY = 86_400_000;

describe('the config rule: the annotation beside a user', () => {
  it.each([
    [undefined, 'No active access key.'],
    [0, 'Oldest active access key: 0 days (maximum 90).'],
    [DAY + 5_000, 'Oldest active access key: 1 day (maximum 90).'],
    [2 * DAY - 1, 'Oldest active access key: 1 day (maximum 90).'],
    [91 * DAY, 'Oldest active access key: 91 days (maximum 90).'],
  ])('a key %s ms old: %s', (age, annotation) => {
    expect(annotationFor(age, 90)).toBe(annotation);
  });
});
