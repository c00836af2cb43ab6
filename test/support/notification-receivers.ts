// Real receivers for notification tests: an SMTP server (smtp-server), an HTTP server for webhooks,
// syslog over UDP and TCP (RFC 5424, octet counting) and Debian's snmptrapd loading CERTFLOW-MIB. Each
// records what arrived so tests can assert on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { freePort } from './free-port.js';
import { eventually, repoRoot } from './processes.js';
import { binary } from './real-servers.js';

// --- SMTP --------------------------------------------------------------------------------------

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  subject: string;
  text: string;
  html: string;
}

function decodeBody(body: string, encoding: string | undefined): string {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  return headers;
}

/** Just enough MIME for nodemailer's messages: headers, and the text/plain and text/html parts. */
export function parseMail(raw: string): Pick<ReceivedMail, 'headers' | 'subject' | 'text' | 'html'> {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const parts: Array<{ type: string; content: string }> = [];
  const walk = (h: Record<string, string>, b: string) => {
    const type = h['content-type'] ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (boundary) {
      for (const chunk of b.split(`--${boundary}`).slice(1)) {
        if (chunk.startsWith('--')) break;
        const s = chunk.replace(/^\r?\n/, '');
        const at = s.search(/\r?\n\r?\n/);
        walk(parseHeaders(s.slice(0, at)), s.slice(at).replace(/^\r?\n\r?\n/, ''));
      }
    } else {
      parts.push({ type: type.split(';')[0].toLowerCase(), content: decodeBody(b, h['content-transfer-encoding']) });
    }
  };
  walk(headers, body);
  const subject = (headers.subject ?? '').replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeBody(text.replace(/_/g, ' '), 'quoted-printable'));
  return {
    headers, subject,
    text: parts.find((p) => p.type === 'text/plain')?.content ?? '',
    html: parts.find((p) => p.type === 'text/html')?.content ?? '',
  };
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  /** Recipients answered 550. */
  rejectRecipients: Set<string>;
  /** While set, a message's final "." is held unanswered until release() is called. */
  hold: { active: boolean; onHeld?: () => void; release?: (accept: boolean) => void };
  close(): Promise<void>;
}

/** `tls`: the server's key and certificate chain; `secure` for TLS from the first byte, else STARTTLS is offered. */
export interface ReceiverTls {
  key: string;
  cert: string;
}

export async function startSmtpReceiver(options: { auth?: { user: string; pass: string }; tls?: ReceiverTls & { secure: boolean } } = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const rejectRecipients = new Set<string>();
  const hold: SmtpReceiver['hold'] = { active: false };
  const server = new SMTPServer({
    authOptional: !options.auth,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert, secure: options.tls.secure } : {}),
    disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (rejectRecipients.has(address.address)) {
        const err = new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`) as Error & { responseCode: number };
        err.responseCode = 550;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const accept = () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address), raw, ...parseMail(raw),
          });
          callback();
        };
        if (!hold.active) return accept();
        hold.release = (ok) => (ok ? accept() : callback(new Error('held message dropped')));
        hold.onHeld?.();
      });
    },
  });
  // A client that refuses our certificate or hangs up is the test's business, not an error of the receiver.
  server.on('error', () => undefined);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, mails, rejectRecipients, hold, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

// --- HTTP (webhooks) ---------------------------------------------------------------------------

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Whether our answer reached the sender (false when it hung up first). */
  answered: boolean;
}

export interface HttpReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Decides each answer: a status (and body), 'hang' (never answer), or a function holding it. */
  behaviour: (req: ReceivedRequest) => { status: number; body?: string } | 'hang' | ((res: ServerResponse) => void);
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const receiver: HttpReceiver = {
    url: '', requests: [], behaviour: () => ({ status: 200, body: 'ok' }),
    close: async () => undefined,
  };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: false };
      receiver.requests.push(record);
      res.on('finish', () => {
        record.answered = !req.socket.destroyed || res.writableFinished;
      });
      const what = receiver.behaviour(record);
      if (what === 'hang') return;
      if (typeof what === 'function') return what(res);
      res.writeHead(what.status, { 'content-type': 'text/plain' }).end(what.body ?? '');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

// --- syslog ------------------------------------------------------------------------------------

export interface SyslogRecord {
  pri: number;
  facility: number;
  severity: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  structuredData: Record<string, Record<string, string>>;
  message: string;
  raw: string;
}

/** A strict RFC 5424 parser: throws on anything that is not a well-formed message. */
export function parseRfc5424(raw: string): SyslogRecord {
  const head = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(raw);
  if (!head) throw new Error(`not RFC 5424: ${raw.slice(0, 80)}`);
  const [, pri, version, timestamp, hostname, appName, procId, msgId] = head;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$/.test(timestamp)) throw new Error(`bad TIMESTAMP ${timestamp}`);
  let rest = raw.slice(head[0].length);
  const structuredData: SyslogRecord['structuredData'] = {};
  if (rest.startsWith('-')) {
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('[')) {
      const id = /^\[([^ \]=\x22]+)/.exec(rest);
      if (!id) throw new Error(`bad SD-ID in ${rest.slice(0, 40)}`);
      rest = rest.slice(id[0].length);
      const params: Record<string, string> = {};
      for (;;) {
        const p = /^ ([^ =\]\x22]{1,32})="((?:[^"\\\]]|\\["\\\]])*)"/.exec(rest);
        if (!p) break;
        params[p[1]] = p[2].replace(/\\(["\\\]])/g, '$1');
        rest = rest.slice(p[0].length);
      }
      if (!rest.startsWith(']')) throw new Error(`unterminated SD-ELEMENT at ${rest.slice(0, 40)}`);
      rest = rest.slice(1);
      structuredData[id[1]] = params;
    }
  }
  const message = rest.startsWith(' ') ? rest.slice(1).replace(/^\uFEFF/, '') : rest;
  return {
    pri: Number(pri), facility: Math.floor(Number(pri) / 8), severity: Number(pri) % 8, version: Number(version), timestamp, hostname,
    appName, procId, msgId, structuredData, message, raw,
  };
}

export interface SyslogReceiver {
  port: number;
  messages: SyslogRecord[];
  close(): Promise<void>;
}

export async function startUdpSyslogReceiver(): Promise<SyslogReceiver> {
  const socket = createSocket('udp4');
  const messages: SyslogRecord[] = [];
  socket.on('message', (msg) => messages.push(parseRfc5424(msg.toString('utf8'))));
  const port = await freePort();
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return { port, messages, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

/** RFC 6587 octet counting: "LEN SP MSG" frames, back to back; over TLS (RFC 5425) when `tls` is given. */
export async function startTcpSyslogReceiver(options: { tls?: ReceiverTls } = {}): Promise<SyslogReceiver> {
  const messages: SyslogRecord[] = [];
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) return;
        const length = Number(buffer.subarray(0, space).toString());
        if (!Number.isInteger(length) || length <= 0) throw new Error('bad octet count');
        if (buffer.length < space + 1 + length) return;
        messages.push(parseRfc5424(buffer.subarray(space + 1, space + 1 + length).toString('utf8')));
        buffer = buffer.subarray(space + 1 + length);
      }
    });
    socket.on('close', () => sockets.delete(socket));
  };
  const server: Server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onConnection) : createTcpServer(onConnection);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port, messages,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// --- snmptrapd ---------------------------------------------------------------------------------

export interface Snmptrapd {
  port: number;
  child: ChildProcess;
  output(): string;
  /** Decoded notifications, one block per notification (see the -F format below). */
  traps(): string[];
  stop(): Promise<void>;
}

/** MIB path: the IETF MIBs net-snmp (npm) ships, and deploy/ holding CERTFLOW-MIB. */
export const MIB_DIRS = [join(repoRoot, 'node_modules/net-snmp/lib/mibs'), join(repoRoot, 'deploy')].join(':');

/**
 * Debian's snmptrapd on 127.0.0.1:port, configured with a v2c community and v3 users, decoding with
 * CERTFLOW-MIB. Each notification is printed as "TRAP-BEGIN ... TRAP-END" with one varbind a line.
 */
export async function startSnmptrapd(options: {
  community?: string;
  users?: Array<{ name: string; engineId?: string; authProtocol: string; authKey: string; privProtocol: string; privKey: string }>;
}): Promise<Snmptrapd> {
  const dir = await mkdtemp(join(tmpdir(), 'certflow-snmptrapd-'));
  const lines = ['disableAuthorization yes', 'doNotLogTraps no'];
  if (options.community) lines.push(`authCommunity log ${options.community}`);
  for (const u of options.users ?? []) {
    lines.push(`createUser ${u.engineId ? `-e 0x${u.engineId.replace(/^0x/, '')} ` : ''}${u.name} ${u.authProtocol} ${u.authKey} ${u.privProtocol} ${u.privKey}`);
  }
  await writeFile(join(dir, 'snmptrapd.conf'), lines.join('\n') + '\n');
  const port = await freePort();
  const child = spawn(binary('snmptrapd'), [
    '-f', '-Lo', '-C', '-c', join(dir, 'snmptrapd.conf'), '-M', MIB_DIRS, '-m', 'CERTFLOW-MIB', '-n',
    '-F', 'TRAP-BEGIN %b %V\\n%v\\nTRAP-END\\n', '-Ob', `udp:127.0.0.1:${port}`,
  ], { env: { ...process.env, SNMP_PERSISTENT_DIR: dir, MIBS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await eventually(async () => /NET-SNMP version/.test(output) || child.exitCode !== null, 10_000, 'snmptrapd to start');
  if (child.exitCode !== null) throw new Error(`snmptrapd exited: ${output}`);
  return {
    port, child, output: () => output,
    traps: () => [...output.matchAll(/TRAP-BEGIN([\s\S]*?)TRAP-END/g)].map((m) => m[1]),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
