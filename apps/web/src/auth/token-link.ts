/**
 * Mailed links carry their token in the URL fragment (`#token=…`), which browsers never send to a server. Read it
 * once, then drop it from the address bar so it does not linger in history or get copied along with the URL.
 */
export function takeTokenFromLocation(): string | null {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
}
