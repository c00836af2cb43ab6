// "host:port" as the three servers write it: "[::1]:443", "127.0.0.1:8443", "*:443", ":443" (HAProxy),
// ":::443" (HAProxy's unbracketed IPv6, where the last colon starts the port), "443" alone, "host" alone.
// Each parser decides what a missing port means; this only splits and normalises the address.

export interface HostPort {
  /** null for "*", "" and Apache's "_default_": every address. IPv6 comes without brackets. */
  address: string | null;
  /** The port text as written ("443", "*", "8443-8445"), or null when none was given. */
  port: string | null;
}

const ANY_ADDRESS = new Set(['', '*', '_default_']);

export function splitHostPort(text: string): HostPort {
  if (/^\d+$/.test(text)) return { address: null, port: text };
  let host: string;
  let port: string | null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return { address: text, port: null };
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    port = rest.startsWith(':') ? rest.slice(1) : null;
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    port = colon === -1 ? null : text.slice(colon + 1);
  }
  return { address: ANY_ADDRESS.has(host) ? null : host.toLowerCase(), port };
}

/** A TCP port number, or null when the text is not one. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}
