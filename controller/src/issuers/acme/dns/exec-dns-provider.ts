// dns-01 through a command the operator supplies, like lego's exec provider: certflow runs
// `COMMAND... present|cleanup FQDN VALUE` (FQDN with its trailing dot) and also passes CERTFLOW_DNS_ACTION,
// CERTFLOW_DNS_FQDN and CERTFLOW_DNS_VALUE in the environment. Exit status 0 means done; anything else
// fails the order with the command's output.
import { execFile } from 'node:child_process';
import type { z } from 'zod';
import type { execDnsProviderSchema } from '../acme-config.js';
import type { DnsProvider } from './dns-provider.js';

export class DnsProviderError extends Error {
  override name = 'DnsProviderError';
}

export class ExecDnsProvider implements DnsProvider {
  constructor(private readonly config: z.infer<typeof execDnsProviderSchema>) {}

  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.run('present', fqdn, value, signal);
  }

  cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.run('cleanup', fqdn, value, signal);
  }

  private run(action: 'present' | 'cleanup', fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const [program, ...args] = this.config.command;
    return new Promise((resolve, reject) => {
      execFile(program, [...args, action, fqdn, value], {
        timeout: this.config.timeoutMs,
        signal,
        maxBuffer: 1024 * 1024,
        env: { ...process.env, CERTFLOW_DNS_ACTION: action, CERTFLOW_DNS_FQDN: fqdn, CERTFLOW_DNS_VALUE: value },
      }, (err, stdout, stderr) => {
        if (!err) return resolve();
        const output = `${stderr}${stdout}`.trim().slice(-2000);
        const how = err.killed ? `was stopped after ${this.config.timeoutMs} ms` : `failed (${err.code ?? err.message})`;
        reject(new DnsProviderError(`DNS hook ${program} ${action} ${fqdn} ${how}${output ? `: ${output}` : ''}`, { cause: err }));
      });
    });
  }
}
