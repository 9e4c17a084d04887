/** "1 key", "2 keys", "0 keys": a count with its noun in the right number (regular English plurals). */
export function plural(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}
