// Redis client-side caching, default mode vs BCAST, as cachelab would use it: one listener connection
// subscribed to __redis__:invalidate, CONNECTIONS data connections (one per I/O thread) whose tracking is
// redirected to it, each reading its share of a hot set (the keys this process holds in its near cache), while
// another client (other processes' fills and writes) writes WRITES keys drawn uniformly from KEYS.
// Prints, per mode: invalidation messages and keys the listener received, how many of those keys were ones
// this process held, and the writer's throughput. Usage:
//   node bench/tracking_modes.mjs REDIS_PORT [KEYS=10000] [HOT=100] [WRITES=100000] [CONNECTIONS=2]
import net from 'node:net';

const [portArg, keysArg, hotArg, writesArg, connsArg] = process.argv.slice(2);
const port = Number(portArg);
const KEYS = Number(keysArg ?? 10000);
const HOT = Number(hotArg ?? 100);
const WRITES = Number(writesArg ?? 100000);
const CONNECTIONS = Number(connsArg ?? 2);
const PREFIX = 'cachelab:bench:tracking:';

function encode(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`;
  return s;
}

// A minimal RESP2 reader: enough for integers, strings, errors, nil and nested arrays.
function parse(buf, pos) {
  const end = buf.indexOf('\r\n', pos);
  if (end < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, end);
  if (type === '+' || type === '-') return { value: type === '-' ? new Error(line) : line, pos: end + 2 };
  if (type === ':') return { value: Number(line), pos: end + 2 };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { value: null, pos: end + 2 };
    if (buf.length < end + 2 + n + 2) return null;
    return { value: buf.toString('utf8', end + 2, end + 2 + n), pos: end + 2 + n + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    if (n < 0) return { value: null, pos: end + 2 };
    const out = [];
    let p = end + 2;
    for (let i = 0; i < n; i++) {
      const r = parse(buf, p);
      if (!r) return null;
      out.push(r.value);
      p = r.pos;
    }
    return { value: out, pos: p };
  }
  throw new Error(`unexpected RESP type ${type}`);
}

class Conn {
  constructor(onPush) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.onPush = onPush;
    this.sock.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      let pos = 0;
      for (;;) {
        const r = parse(this.buf, pos);
        if (!r) break;
        pos = r.pos;
        if (this.onPush && Array.isArray(r.value) && r.value[0] === 'message') this.onPush(r.value);
        else this.waiting.shift()(r.value);
      }
      this.buf = this.buf.subarray(pos);
    });
  }
  // Sends the commands in one write, resolves with their replies.
  send(cmds) {
    this.sock.write(cmds.map(encode).join(''));
    return Promise.all(cmds.map(() => new Promise((resolve) => this.waiting.push(resolve))));
  }
  close() { this.sock.destroy(); }
}

const hot = new Set();
for (let i = 0; hot.size < HOT; i++) hot.add(Math.floor((i * 7919) % KEYS));

async function run(bcast) {
  let messages = 0, keys = 0, relevant = 0;
  const listener = new Conn((m) => {
    messages++;
    for (const k of m[2] ?? []) {
      keys++;
      if (hot.has(Number(k.slice(PREFIX.length)))) relevant++;
    }
  });
  const [id] = await listener.send([['CLIENT', 'ID']]);
  await listener.send([['SUBSCRIBE', '__redis__:invalidate']]);
  const data = [];
  for (let c = 0; c < CONNECTIONS; c++) {
    const d = new Conn();
    const mode = bcast ? ['BCAST', 'PREFIX', PREFIX] : [];
    const [ok] = await d.send([['CLIENT', 'TRACKING', 'on', 'REDIRECT', id, ...mode, 'NOLOOP']]);
    if (ok instanceof Error) throw ok;
    data.push(d);
  }
  const writer = new Conn();
  const hotList = [...hot];
  // Each data connection reads its share of the hot set (what its thread holds), again after every batch of
  // writes, as a near cache refilling what was invalidated would.
  const reread = () => Promise.all(data.map((d, c) =>
    d.send(hotList.filter((_, i) => i % CONNECTIONS === c).map((k) => ['GET', PREFIX + k]))));
  await writer.send(hotList.map((k) => ['SET', PREFIX + k, 'v']));
  await reread();
  const batch = 1000;
  let seed = 12345;
  const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % KEYS; };
  const started = process.hrtime.bigint();
  for (let done = 0; done < WRITES; done += batch) {
    const cmds = [];
    for (let i = 0; i < batch; i++) cmds.push(['SET', PREFIX + rand(), 'v']);
    await writer.send(cmds);
    await reread();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((r) => setTimeout(r, 200));  // the last messages
  for (const c of [listener, writer, ...data]) c.close();
  return { messages, keys, relevant, seconds };
}

const modes = { default: await run(false), bcast: await run(true) };
console.log(`client-side caching, ${CONNECTIONS} data connections reading a hot set of ${HOT} of ${KEYS} keys, ` +
  `${WRITES} writes by another client (uniform), batches of 1000:`);
console.log(`${'mode'.padEnd(8)} ${'messages'.padStart(9)} ${'keys'.padStart(9)} ${'held'.padStart(7)} ` +
  `${'useless'.padStart(8)} ${'writes/s'.padStart(10)}`);
for (const [name, m] of Object.entries(modes)) {
  const useless = m.keys ? (100 * (m.keys - m.relevant) / m.keys).toFixed(1) + '%' : '–';
  console.log(`${name.padEnd(8)} ${String(m.messages).padStart(9)} ${String(m.keys).padStart(9)} ` +
    `${String(m.relevant).padStart(7)} ${useless.padStart(8)} ${(WRITES / m.seconds).toFixed(0).padStart(10)}`);
}
