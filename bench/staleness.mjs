// The near cache's cross-process staleness window: process A writes a product's price, process B (whose near
// cache holds the product) is read in a tight loop over one kept-alive connection. For each write, the window is
// the time from A's answer to the sending of B's first read that returned the new price (a read sent after it is
// fresh; 0.0x ms when the very first read after the answer was already fresh), and the reads before it were
// stale. Prints the window's distribution, the stale reads, and the sources B's fresh reads came from.
// Usage: node bench/staleness.mjs WRITER_URL READER_URL [WRITES=10000] [PRODUCT_ID=11]
import http from 'node:http';

const [writerUrl, readerUrl, writesArg, idArg] = process.argv.slice(2);
const writes = Number(writesArg ?? 10000);
const id = Number(idArg ?? 11);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(base, method, path, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(path, base);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method, agent,
      headers: body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {} },
    (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(data) }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const windows = [];
const sources = {};
let stalePolls = 0;
let price = 1000;
for (let i = 0; i < writes; i++) {
  // B's entry in memory before the write, so that the window is the near cache's, not a Redis read's.
  for (let k = 0; k < 3; k++) await request(readerUrl, 'GET', `/products/${id}`);
  price = Math.round((price + 0.01) * 100) / 100;
  if (price > 90000) price = 1000;
  const w = await request(writerUrl, 'PATCH', `/products/${id}`, JSON.stringify({ price }));
  if (w.status !== 200) throw new Error(`write ${i}: ${w.status}`);
  const answered = process.hrtime.bigint();
  for (;;) {
    const sent = process.hrtime.bigint();
    const r = await request(readerUrl, 'GET', `/products/${id}`);
    if (Math.abs(r.json.price - price) < 1e-9) {
      windows.push(Number(sent - answered) / 1e6);
      sources[r.json.source] = (sources[r.json.source] ?? 0) + 1;
      break;
    }
    stalePolls++;
  }
}
windows.sort((a, b) => a - b);
const q = (p) => windows[Math.min(windows.length - 1, Math.floor(p * windows.length))].toFixed(3);
console.log(`staleness window over ${windows.length} writes (ms, from the write's answer to the sending of B's ` +
  `first fresh read): p50 ${q(0.5)}  p90 ${q(0.9)}  p99 ${q(0.99)}  p99.9 ${q(0.999)}  ` +
  `max ${windows[windows.length - 1].toFixed(3)}`);
const staleWrites = windows.filter((w) => w > 0.2).length;
console.log(`stale reads after a write's answer: ${stalePolls} in all; writes with a window over 0.2 ms: ` +
  `${staleWrites}; first fresh read came from: ${JSON.stringify(sources)}`);
agent.destroy();
