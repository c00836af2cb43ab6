// RFC 5424 syslog messages: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG. Structured data
// carries the event's fields under the SD-ID certflow@32473; 32473 is the enterprise number IANA reserves
// for documentation (RFC 5612), a placeholder until certflow has a Private Enterprise Number of its own
// (the same placeholder arc as deploy/CERTFLOW-MIB.txt).
import { FACILITIES } from './syslog-config.js';

export const SD_ENTERPRISE = 32473;

export type SyslogSeverity = 'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug';
const SEVERITY_CODES: Record<SyslogSeverity, number> = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 };

export interface SyslogMessage {
  facility: (typeof FACILITIES)[number];
  severity: SyslogSeverity;
  timestamp: Date;
  hostname: string;
  appName: string;
  procId?: string;
  msgId: string;
  /** SD-ID (without @enterprise) → params; values are escaped here. */
  structuredData: Record<string, Record<string, string | number | null | undefined>>;
  message: string;
}

/** Fields of the header: printable US-ASCII, no spaces, at most `max` characters, "-" when empty. */
function headerField(value: string | undefined, max: number): string {
  const clean = (value ?? '').replace(/[^!-~]/g, '_').slice(0, max);
  return clean || '-';
}

/** PARAM-NAME: 1-32 printable characters except '=', ' ', ']' and '"'. */
function paramName(name: string): string {
  return name.replace(/[^!-~]|[=\]"]/g, '_').slice(0, 32);
}

/** PARAM-VALUE: UTF-8 with '"', '\' and ']' escaped by a backslash. */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export function formatRfc5424(m: SyslogMessage): string {
  const pri = FACILITIES.indexOf(m.facility) * 8 + SEVERITY_CODES[m.severity];
  const elements = Object.entries(m.structuredData).map(([id, params]) => {
    const body = Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => ` ${paramName(k)}="${paramValue(String(v))}"`).join('');
    return `[${paramName(id)}@${SD_ENTERPRISE}${body}]`;
  }).join('');
  const header = [`<${pri}>1`, m.timestamp.toISOString(), headerField(m.hostname, 255), headerField(m.appName, 48),
    headerField(m.procId, 128), headerField(m.msgId, 32), elements || '-'].join(' ');
  // The BOM says "this MSG is UTF-8" (RFC 5424 section 6.4).
  return m.message ? `${header} \uFEFF${m.message}` : header;
}

/** RFC 6587 octet counting: "LENGTH SP MESSAGE", the length in bytes. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `), body]);
}

/** Cuts a message to `maxBytes` without splitting a UTF-8 character. */
export function truncateUtf8(message: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
