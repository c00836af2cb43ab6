#!/usr/bin/env node
// A dns-01 exec hook for tests (what an operator's script does against their DNS API): sets or clears the
// TXT record on pebble-challtestsrv. Called as `challtestsrv-dns-hook.mjs MANAGEMENT_URL present|cleanup FQDN VALUE`.
// It also checks that certflow passed the same values in CERTFLOW_DNS_*.

const [url, action, fqdn, value] = process.argv.slice(2);
if (process.env.CERTFLOW_DNS_ACTION !== action || process.env.CERTFLOW_DNS_FQDN !== fqdn || process.env.CERTFLOW_DNS_VALUE !== value) {
  console.error('CERTFLOW_DNS_* environment does not match the arguments');
  process.exit(2);
}
const path = action === 'present' ? '/set-txt' : '/clear-txt';
const body = action === 'present' ? { host: fqdn, value } : { host: fqdn };
const res = await fetch(url + path, { method: 'POST', body: JSON.stringify(body) });
if (!res.ok) {
  console.error(`challtestsrv ${path}: HTTP ${res.status}`);
  process.exit(1);
}
