// Container health check: GET a URL, healthy on any 2xx within 4 s. The URL is the first
// argument, or WARMPOOL_HEALTHCHECK_URL, or the process's /healthz on WARMPOOL_PORT.
const port = process.env.WARMPOOL_PORT ?? "8080";
const url = process.argv[2] ?? process.env.WARMPOOL_HEALTHCHECK_URL ?? `http://127.0.0.1:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (res.status < 200 || res.status > 299) {
    console.error(`unhealthy: ${url} answered ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`unhealthy: ${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
