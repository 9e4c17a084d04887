import { beforeEach, expect } from 'vitest';

// A test that asserts nothing passes whatever the code does: fail it instead. Helpers that check a result
// (expectError, expectNothingChanged, ...) use expect, so they count.
beforeEach(() => {
  expect.hasAssertions();
});
