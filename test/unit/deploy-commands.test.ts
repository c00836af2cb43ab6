// Commands run only by name from the agent's allowlist, without a shell, with a timeout and bounded output.
import { describe, expect, it } from 'vitest';
import { CommandFailedError, CommandNotAllowedError, createCommandRunner, runProgram } from '../../agent/src/deploy/commands.js';

const signal = new AbortController().signal;

describe('createCommandRunner', () => {
  const runner = createCommandRunner({
    hello: ['echo', 'hello', '$HOME; touch /tmp/certflow-injected'],
    fails: ['sh', '-c', 'echo broken config >&2; exit 3'],
    environment: ['env'],
  });

  it('runs an allowlisted command by name, passing arguments literally (no shell)', async () => {
    const result = await runner.run('hello', signal);
    expect(result.output).toBe('hello $HOME; touch /tmp/certflow-injected\n');
    expect(result.exitCode).toBe(0);
  });

  it('refuses a name that is not in the allowlist', async () => {
    await expect(runner.run('rm -rf /', signal)).rejects.toBeInstanceOf(CommandNotAllowedError);
    expect(runner.has('hello')).toBe(true);
    expect(runner.has('toString')).toBe(false);
  });

  it('reports the exit status and the end of the output of a failing command', async () => {
    const error = await runner.run('fails', signal).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(CommandFailedError);
    expect((error as CommandFailedError).result.exitCode).toBe(3);
    expect((error as Error).message).toMatch(/exited with status 3: broken config/);
  });

  it('gives commands a minimal environment, not the agent\'s', async () => {
    process.env.CERTFLOW_TEST_SECRET = 'do-not-leak';
    const { output } = await runner.run('environment', signal);
    expect(output).not.toContain('do-not-leak');
    expect(output).toContain('PATH=');
  });

  it('refuses an entry with an empty argv', () => {
    expect(() => createCommandRunner({ empty: [] })).toThrow(/empty argv/);
  });
});

describe('runProgram', () => {
  it('kills a command that outlives its timeout', async () => {
    const error = await runProgram('sleep', ['5'], { signal, limits: { timeoutMs: 200, maxOutputBytes: 1024 } }).catch((err: unknown) => err);
    expect((error as CommandFailedError).result.timedOut).toBe(true);
    expect((error as CommandFailedError).result.ms).toBeLessThan(2000);
  });

  it('keeps only the tail of a long output', async () => {
    const result = await runProgram('seq', ['1', '100000'], { signal, limits: { timeoutMs: 5000, maxOutputBytes: 64 } });
    expect(result.truncated).toBe(true);
    expect(result.output.length).toBeLessThanOrEqual(64);
    expect(result.output.endsWith('99999\n100000\n')).toBe(true);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutdown')), 100);
    await expect(runProgram('sleep', ['5'], { signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  it('reports a program that does not exist', async () => {
    await expect(runProgram('/nonexistent/program', [], { signal })).rejects.toThrow(/could not be started \(ENOENT\)/);
  });
});
