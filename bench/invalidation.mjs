// How long after one server process acknowledges a suspension the other refuses the
// workspace. Each trial suspends the workspace through the console on process one, then asks
// process two for the workspace's home page until it answers 403 (the suspended page); then
// reactivates it and waits until process two no longer refuses it. It also counts the trials in
// which process two's very first answer after the acknowledgement was already the refusal: a
// figure, not a promise (a process slower to read its notifications than process one lags).
//
// node bench/invalidation.mjs PORT_ONE PORT_TWO BASE SLUG CONSOLE_COOKIE SET_STATUS_PATH TRIALS
// prints one JSON line:
// {"trials":N,"p50_ms":…,"max_ms":…,"first_refused":…,"back_p50_ms":…,"back_max_ms":…}
import http from "node:http";

const [portOne, portTwo, base, slug, consoleCookie, setStatusPath, trialsArg] = process.argv.slice(2);
const trials = Number(trialsArg ?? 100);
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
const GIVE_UP_MS = 5000;

function request(port, method, host, path, headers = {}, body = "") {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, agent, headers: { Host: host, ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function setStatus(status) {
  const body = new URLSearchParams({ slug, status }).toString();
  const code = await request(portOne, "POST", `admin.${base}`, setStatusPath, {
    Cookie: consoleCookie,
    "Sec-Fetch-Site": "same-origin",
    "Content-Type": "application/x-www-form-urlencoded",
    "Content-Length": Buffer.byteLength(body),
  }, body);
  if (code !== 200) throw new Error(`setting ${status} on process one answered ${code}`);
}

/**
 * Milliseconds from now until process two's answer for the workspace's home page passes
 * `check`, and how many requests that took.
 */
async function untilTwo(check) {
  const started = process.hrtime.bigint();
  for (let asked = 1; ; asked++) {
    const code = await request(portTwo, "GET", `${slug}.${base}`, "/", { Accept: "text/html" });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (check(code)) return { elapsed, asked };
    if (elapsed > GIVE_UP_MS) throw new Error(`process two still answered ${code} after ${GIVE_UP_MS} ms`);
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

const refused = [];
const back = [];
let firstRefused = 0;
for (let i = 0; i < trials; i++) {
  await setStatus("suspended");
  const suspended = await untilTwo((code) => code === 403);
  refused.push(suspended.elapsed);
  if (suspended.asked === 1) firstRefused++;
  await setStatus("active");
  back.push((await untilTwo((code) => code !== 403)).elapsed);
}
refused.sort((a, b) => a - b);
back.sort((a, b) => a - b);
const round = (ms) => Math.round(ms * 100) / 100;
console.log(
  JSON.stringify({
    trials,
    p50_ms: round(percentile(refused, 50)),
    max_ms: round(refused[refused.length - 1]),
    first_refused: firstRefused,
    back_p50_ms: round(percentile(back, 50)),
    back_max_ms: round(back[back.length - 1]),
  }),
);
agent.destroy();
