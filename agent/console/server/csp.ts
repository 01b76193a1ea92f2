// The console's Content-Security-Policy, one definition for both ways it is served:
// only our own files; inline styles because xterm.js positions rows and cursor with
// them; the only difference is where data may come from (`connect-src`).
export function consoleCsp(connectSrc: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `connect-src ${connectSrc}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
