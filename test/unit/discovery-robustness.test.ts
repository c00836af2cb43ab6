// A scan never hangs, crashes or balloons: every bad input on disk is reported with its path and reason,
// and the rest of the tree is still scanned. Also the include/exclude globs and the unchanged-rescan cache.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, unlink, writeFile, chmod } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScanCommand } from '../../agent/src/commands/scan.js';
import { scanPaths, type ScanEvent, type ScanOptions } from '../../agent/src/discovery/file-scanner.js';
import { globToRegExp } from '../../agent/src/discovery/glob.js';
import { createScanCache } from '../../agent/src/discovery/scan-cache.js';
import { makeCertificate, type TestCertificate } from '../support/certificates.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

/** Collects a scan, failing (instead of hanging the suite) if it does not finish in time. */
async function scan(paths: string[], options: ScanOptions = {}, withinMs = 20_000): Promise<ScanEvent[]> {
  const events: ScanEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const finished = (async () => {
    for await (const event of scanPaths(paths, options)) events.push(event);
    return 'finished';
  })();
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timed out'), withinMs);
  });
  expect(await Promise.race([finished, timedOut])).toBe('finished');
  clearTimeout(timer);
  return events;
}

const notices = (events: ScanEvent[]) => events
  .filter((event) => event.type === 'problem' || event.type === 'skipped')
  .map((event) => ('message' in event ? [event.type, event.path, event.message] : []));

describe('a scan of a hostile tree', () => {
  let dir: string;
  let good: TestCertificate;
  let server: Server;

  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'certflow-robust-')));
    good = await makeCertificate({ commonName: 'good.example' });
  });

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await chmod(join(dir, 'bad'), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('finishes, reports every bad entry with its path and reason, and still finds the good certificate', async () => {
    const bad = join(dir, 'bad');
    await mkdir(join(bad, 'loop', 'inner'), { recursive: true });
    await writeFile(join(bad, 'good.pem'), good.pem);
    execFileSync('mkfifo', [join(bad, 'pipe.pem')]);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(join(bad, 'agent.sock'), resolve));
    await symlink('/dev/null', join(bad, 'null.crt'));
    await symlink(join(bad, 'loop'), join(bad, 'loop', 'inner', 'up'));
    await symlink(join(bad, 'ping'), join(bad, 'pong'));
    await symlink(join(bad, 'pong'), join(bad, 'ping'));
    await symlink(join(bad, 'nowhere'), join(bad, 'dangling.pem'));
    await writeFile(join(bad, 'huge.pem'), Buffer.alloc(11 * MiB, 0x41));
    await writeFile(join(bad, 'truncated.der'), good.der.subarray(0, good.der.length - 10));
    for (const name of ['random.pem', 'random.p12', 'random.crt', 'random.jks']) await writeFile(join(bad, name), randomBytes(4096));
    await writeFile(join(bad, 'empty.crt'), '');
    // Readable by stat, not by read: the kernel refuses to read another view of our own memory at offset 0.
    await symlink('/proc/self/mem', join(bad, 'unreadable.pem'));

    const events = await scan([bad]);
    expect(events.filter((event) => event.type === 'certificate').map((event) => event.path)).toEqual([join(bad, 'good.pem')]);
    const reported = notices(events);
    expect(reported).toEqual([
      ['skipped', join(bad, 'agent.sock'), 'skipped: socket'],
      ['problem', join(bad, 'dangling.pem'), 'no such file or directory'],
      ['problem', join(bad, 'empty.crt'), 'no certificate found'],
      ['problem', join(bad, 'huge.pem'), `skipped: larger than ${10 * MiB} bytes`],
      ['skipped', join(bad, 'loop', 'inner', 'up'), `skipped: symbolic link loop back to ${join(bad, 'loop')}`],
      ['skipped', join(bad, 'null.crt'), 'skipped: character device'],
      ['problem', join(bad, 'ping'), 'too many levels of symbolic links'],
      ['skipped', join(bad, 'pipe.pem'), 'skipped: FIFO (named pipe)'],
      ['problem', join(bad, 'pong'), 'too many levels of symbolic links'],
      ['problem', join(bad, 'random.crt'), expect.stringMatching(/^malformed/)],
      ['problem', join(bad, 'random.jks'), expect.stringMatching(/^malformed/)],
      ['problem', join(bad, 'random.p12'), expect.stringMatching(/^malformed PKCS#12: /)],
      ['problem', join(bad, 'random.pem'), expect.stringMatching(/^malformed/)],
      ['problem', join(bad, 'truncated.der'), expect.stringMatching(/^malformed DER certificate: /)],
      ['problem', join(bad, 'unreadable.pem'), 'input/output error'],
    ]);
    // Every entry of the directory is accounted for: reported, or the certificate.
    const entries = (await readdir(bad)).filter((name) => name !== 'loop').map((name) => join(bad, name));
    const accounted = new Set([...reported.map(([, path]) => path), join(bad, 'good.pem')]);
    expect(entries.filter((entry) => !accounted.has(entry))).toEqual([]);
  });

  it('scans a directory reached twice through a symbolic link only once, and says so', async () => {
    const tree = join(dir, 'twice');
    await mkdir(join(tree, 'real'), { recursive: true });
    await writeFile(join(tree, 'real', 'good.pem'), good.pem);
    await symlink(join(tree, 'real'), join(tree, 'z-alias'));
    const events = await scan([tree]);
    expect(notices(events)).toEqual([['skipped', join(tree, 'z-alias'), `skipped: directory already scanned as ${join(tree, 'real')}`]]);
    expect(events.filter((event) => event.type === 'certificate').map((event) => event.path)).toEqual([join(tree, 'real', 'good.pem')]);
  });

  it('skips special files given as roots without blocking on them', async () => {
    const fifo = join(dir, 'root.fifo');
    execFileSync('mkfifo', [fifo]);
    const events = await scan([fifo, '/dev/zero', '/dev/null']);
    expect(notices(events)).toEqual([
      ['skipped', fifo, 'skipped: FIFO (named pipe)'],
      ['skipped', '/dev/zero', 'skipped: character device'],
      ['skipped', '/dev/null', 'skipped: character device'],
    ]);
  });

  it('honours a configured size cap and says which', async () => {
    const path = join(dir, 'capped', 'bundle.pem');
    await mkdir(join(dir, 'capped'));
    await writeFile(path, good.pem.repeat(4));
    expect(notices(await scan([path], { maxFileBytes: 1024 }))).toEqual([['problem', path, 'skipped: larger than 1024 bytes']]);
  });

  it.skipIf(isRoot)('reports files and directories it has no permission to read', async () => {
    const locked = join(dir, 'locked');
    await mkdir(join(locked, 'closed'), { recursive: true });
    await writeFile(join(locked, 'secret.pem'), good.pem);
    await chmod(join(locked, 'secret.pem'), 0o000);
    await chmod(join(locked, 'closed'), 0o000);
    try {
      expect(notices(await scan([locked]))).toEqual([
        ['problem', join(locked, 'closed'), 'permission denied'],
        ['problem', join(locked, 'secret.pem'), 'permission denied'],
      ]);
    } finally {
      await chmod(join(locked, 'closed'), 0o755);
    }
  });

  it('reports well-formed DER that cannot be parsed when its facts are read, and the command prints it as a problem', async () => {
    // A valid structure with an impossible date: the structure check passes, the full parse does not.
    const broken = Buffer.from(good.der);
    const notBefore = broken.indexOf(Buffer.from(good.der.toString('latin1').match(/\d{12}Z/)![0], 'latin1'));
    broken.write('999999999999Z', notBefore, 'latin1');
    const path = join(dir, 'odd-date.der');
    await writeFile(path, broken);
    const [event] = await scan([path]);
    expect(event).toMatchObject({ type: 'certificate', path });
    if (event.type !== 'certificate') return;
    expect(event.facts.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(() => event.facts.subject).toThrow(/invalid validity time/);

    let out = '';
    let err = '';
    const sink = (append: (text: string) => void) => new Writable({ write(chunk, _encoding, done) { append(String(chunk)); done(); } });
    expect(await runScanCommand(['--json', path], sink((text) => (out += text)), sink((text) => (err += text)))).toBe(0);
    expect(out).toBe('');
    expect(err).toMatch(new RegExp(`^certflow-agent: ${path}: certificate 0: invalid validity time "999999999999Z"\n$`));
  });

  it('stops with an AbortError when aborted in the middle of a tree', async () => {
    const tree = join(dir, 'abort');
    await mkdir(tree);
    for (let i = 0; i < 20; i++) await writeFile(join(tree, `${i}.crt`), 'not a certificate');
    const controller = new AbortController();
    const scanning = scanPaths([tree], { signal: controller.signal });
    expect((await scanning.next()).value).toMatchObject({ type: 'problem' });
    controller.abort();
    await expect(scanning.next()).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('include and exclude globs', () => {
  it('turns globs into path patterns: * and ? within a segment, ** across, bare names at any depth', () => {
    const matches = (glob: string, path: string) => globToRegExp(glob).test(path);
    expect(matches('/etc/ssl/*.pem', '/etc/ssl/a.pem')).toBe(true);
    expect(matches('/etc/ssl/*.pem', '/etc/ssl/certs/a.pem')).toBe(false);
    expect(matches('/etc/**/*.pem', '/etc/a.pem')).toBe(true);
    expect(matches('/etc/**/*.pem', '/etc/ssl/certs/a.pem')).toBe(true);
    expect(matches('/opt/**', '/opt')).toBe(true);
    expect(matches('/opt/**', '/opt/app/x')).toBe(true);
    expect(matches('/opt/**', '/optional')).toBe(false);
    expect(matches('node_modules', '/srv/app/node_modules')).toBe(true);
    expect(matches('node_modules', '/srv/app/node_modules_old')).toBe(false);
    expect(matches('*.key', '/etc/ssl/private/a.key')).toBe(true);
    expect(matches('/etc/ssl/cert?.pem', '/etc/ssl/cert1.pem')).toBe(true);
    expect(matches('/etc/ssl/cert?.pem', '/etc/ssl/cert/.pem')).toBe(false);
    expect(matches('/a+b/(c).pem', '/a+b/(c).pem')).toBe(true);
  });

  it('reads only included files and does not enter excluded directories', async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'certflow-globs-')));
    try {
      const { pem } = await makeCertificate({ commonName: 'glob.example' });
      await mkdir(join(dir, 'app', 'node_modules', 'pkg'), { recursive: true });
      await writeFile(join(dir, 'app', 'server.pem'), pem);
      await writeFile(join(dir, 'app', 'server.crt'), pem);
      await writeFile(join(dir, 'app', 'node_modules', 'pkg', 'test.pem'), pem);
      const paths = async (options: ScanOptions) => (await scan([dir], options)).map((event) => event.path);
      expect(await paths({})).toEqual([join(dir, 'app', 'node_modules', 'pkg', 'test.pem'), join(dir, 'app', 'server.crt'), join(dir, 'app', 'server.pem')]);
      expect(await paths({ exclude: ['node_modules'] })).toEqual([join(dir, 'app', 'server.crt'), join(dir, 'app', 'server.pem')]);
      expect(await paths({ include: ['**/*.pem'], exclude: [`${dir}/app/node_modules/**`] })).toEqual([join(dir, 'app', 'server.pem')]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an unchanged rescan', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'certflow-rescan-')));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every unchanged file from the cache without reading it, with the same events', async () => {
    const certificates = await Promise.all(['a', 'b', 'c'].map((name) => makeCertificate({ commonName: `${name}.example` })));
    await writeFile(join(dir, 'a.pem'), certificates[0].pem + certificates[1].pem);
    await writeFile(join(dir, 'b.der'), certificates[1].der);
    await writeFile(join(dir, 'junk.crt'), 'not a certificate');
    await writeFile(join(dir, 'notes.txt'), 'nothing here');
    const cache = createScanCache();

    const first = await scan([dir], { cache });
    expect({ hits: cache.hits, misses: cache.misses, size: cache.size }).toEqual({ hits: 0, misses: 4, size: 4 });
    const second = await scan([dir], { cache });
    expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 4, misses: 4 });
    expect(second).toEqual(first);

    // certbot-style replacement (new inode) and a rewrite in place are both seen; the rest still comes from the cache.
    await writeFile(join(dir, 'b.der.new'), certificates[2].der);
    execFileSync('mv', [join(dir, 'b.der.new'), join(dir, 'b.der')]);
    await writeFile(join(dir, 'a.pem'), certificates[0].pem);
    await unlink(join(dir, 'notes.txt'));
    const third = await scan([dir], { cache });
    expect({ hits: cache.hits, misses: cache.misses, size: cache.size }).toEqual({ hits: 5, misses: 6, size: 3 });
    expect(third.filter((event) => event.type === 'certificate').map((event) => event.type === 'certificate' && event.facts.subject))
      .toEqual(['CN=a.example', 'CN=c.example']);
  });

  it('starts from empty when the keystore passwords change', async () => {
    const cache = createScanCache();
    await scan([dir], { cache });
    const misses = cache.misses;
    await scan([dir], { cache, keystorePasswords: ['other'] });
    expect(cache.misses).toBe(misses * 2);
  });
});
