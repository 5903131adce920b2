// Peer side of bench/tokenizers/run_bench.sh: encodes every line of a file with
// tiktoken (gpt2) and Hugging Face tokenizers (GPT-2 BPE, BERT WordPiece), one
// thread, and prints MB/s and tokens/s. NODE_PATH must point at node_modules
// holding `tiktoken` and `@anush008/tokenizers`.
import fs from "fs";
import { createRequire } from "module";
const require = createRequire(process.env.NODE_PATH + "/");
const { get_encoding } = require("tiktoken");
const { Tokenizer } = require("@anush008/tokenizers");
const [,, file, gpt2Json, bertJson] = process.argv;
const text = fs.readFileSync(file, "utf8");
const lines = text.split("\n");
const mb = Buffer.byteLength(text) / 1e6;
const report = (name, secs, tokens) =>
  console.log(`${name.padEnd(28)} ${(mb / secs).toFixed(2).padStart(8)} MB/s ${(tokens / secs / 1e6).toFixed(2).padStart(7)} Mtok/s`);

const enc = get_encoding("gpt2");
let t0 = performance.now(), n = 0;
for (const l of lines) n += enc.encode(l, [], []).length;
report("tiktoken gpt2", (performance.now() - t0) / 1e3, n);

for (const [name, path] of [["hf-tokenizers gpt2", gpt2Json], ["hf-tokenizers bert", bertJson]]) {
  const tok = Tokenizer.fromFile(path);
  t0 = performance.now(); n = 0;
  for (const l of lines) n += (await tok.encode(l, null, { addSpecialTokens: false })).getIds().length;
  report(name, (performance.now() - t0) / 1e3, n);
}
