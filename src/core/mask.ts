/** `AKIAIOSFODNN7EXAMPLE` → `AKIA…MPLE`: enough to tell keys apart, not enough to use one. */
export function maskKeyId(accessKeyId: string): string {
  if (accessKeyId.length <= 8) return accessKeyId;
  return `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;
}

/** Temporary credentials (`ASIA…`, or any with a session token) belong to a session and cannot be rotated. */
export function isTemporaryKeyId(accessKeyId: string): boolean {
  return accessKeyId.startsWith('ASIA');
}

// `=` may come before (`aws_secret_access_key=…`), not after: a 40-character run followed by `=` is padded base64.
const SECRET_LIKE = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

/**
 * Hides anything shaped like a secret access key (40 characters of base64, mixed case, a digit or / or +),
 * wherever it came from: a secret pasted into the wrong flag must not be echoed back in a message.
 */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_LIKE, (token) => (/[a-z]/.test(token) && /[A-Z]/.test(token) && /[0-9/+]/.test(token) ? '****' : token));
}
